import type { EntityManager } from 'typeorm';
import { canSee, type Visibility } from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { type FieldError, ValidationProblem } from '../common/problem-details.filter.js';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import { sql } from '../database/sql.js';

interface ActionItemRefs {
  ownerId: string;
  visibility: Visibility;
  meetingId?: string | null;
  agendaItemId?: string | null;
  policyItemId?: string | null;
  /** The owner the item already has: kept as is, it need not still be active. */
  currentOwnerId?: string;
}

interface Owner {
  id: string;
  active: boolean;
  delegation: DelegationCode | null;
  timezone: string;
}

interface Referenced {
  visibility: Visibility;
  meetingId: string;
}

/**
 * Every record an action item can point at, in one statement: each LEFT JOIN finds its row or
 * nothing (a null id matches nothing). Constant text, so each database prepares it once.
 */
const LOOKUP = `SELECT o.id AS "ownerId", o.active AS "ownerActive", o.delegation AS "ownerDelegation",
    o.timezone AS "ownerTimezone", m.id AS "meetingId",
    a.id AS "agendaItemId", a.visibility AS "agendaVisibility", a.meeting_id AS "agendaMeetingId",
    p.id AS "policyItemId", p.visibility AS "policyVisibility"
  FROM (SELECT 1 AS one) refs
  LEFT JOIN users o ON o.id = $1
  LEFT JOIN meetings m ON m.id = $2
  LEFT JOIN agenda_items a ON a.id = $3
  LEFT JOIN policy_items p ON p.id = $4`;

interface LookupRow {
  ownerId: string | null;
  ownerActive: boolean | number | null;
  ownerDelegation: DelegationCode | null;
  ownerTimezone: string | null;
  meetingId: string | null;
  agendaItemId: string | null;
  agendaVisibility: Visibility | null;
  agendaMeetingId: string | null;
  policyItemId: string | null;
  policyVisibility: Visibility | null;
}

/**
 * The records action items point at, each looked up once per request: meeting outcomes check
 * several items that share owners, the meeting and policy items. Keyed by id; null when the
 * id names nothing.
 */
export class ActionItemRefLookup {
  private readonly owners = new Map<string, Owner | null>();
  private readonly meetings = new Map<string, boolean>();
  private readonly agendaItems = new Map<string, Referenced | null>();
  private readonly policyItems = new Map<string, Pick<Referenced, 'visibility'> | null>();

  /** A meeting the caller has already loaded. */
  knownMeeting(id: string): this {
    this.meetings.set(id, true);
    return this;
  }

  async load(em: EntityManager, refs: ActionItemRefs): Promise<void> {
    const wanted = (known: Map<string, unknown>, id: string | null | undefined) =>
      id && !known.has(id) ? id : null;
    const ownerId = wanted(this.owners, refs.ownerId);
    const meetingId = wanted(this.meetings, refs.meetingId);
    const agendaItemId = wanted(this.agendaItems, refs.agendaItemId);
    const policyItemId = wanted(this.policyItems, refs.policyItemId);
    if (!ownerId && !meetingId && !agendaItemId && !policyItemId) {
      return;
    }
    const { rows } = await sql<LookupRow>(em, LOOKUP, [
      ownerId,
      meetingId,
      agendaItemId,
      policyItemId,
    ]);
    const row = rows[0];
    if (ownerId) {
      this.owners.set(
        ownerId,
        row.ownerId === null
          ? null
          : {
              id: row.ownerId,
              active: Boolean(row.ownerActive),
              delegation: row.ownerDelegation,
              timezone: row.ownerTimezone!,
            },
      );
    }
    if (meetingId) {
      this.meetings.set(meetingId, row.meetingId !== null);
    }
    if (agendaItemId) {
      this.agendaItems.set(
        agendaItemId,
        row.agendaItemId === null
          ? null
          : { visibility: row.agendaVisibility!, meetingId: row.agendaMeetingId! },
      );
    }
    if (policyItemId) {
      this.policyItems.set(
        policyItemId,
        row.policyItemId === null ? null : { visibility: row.policyVisibility! },
      );
    }
  }

  owner(id: string): Owner | null {
    return this.owners.get(id) ?? null;
  }

  meetingExists(id: string): boolean {
    return this.meetings.get(id) ?? false;
  }

  agendaItem(id: string): Referenced | null {
    return this.agendaItems.get(id) ?? null;
  }

  policyItem(id: string): Pick<Referenced, 'visibility'> | null {
    return this.policyItems.get(id) ?? null;
  }
}

/**
 * Checks what an action item points at, all at once, and reports every problem as a 400 with
 * its field: the owner is an active delegation member (of the item's delegation when it is
 * delegation-only; an owner the item already has may have been deactivated since, and the
 * item must still be movable, cancellable and reassignable); the meeting, agenda item and
 * policy item exist and are visible to the caller; a joint item refers to joint records only
 * (else it would reveal the other side's).
 * Returns what follows from them: the owner's delegation and timezone, and the meeting of the
 * agenda item when none was given. Pass one `lookup` to the checks of one request.
 */
export async function resolveActionItemRefs(
  em: EntityManager,
  caller: AuthUser,
  refs: ActionItemRefs,
  prefix: string,
  lookup: ActionItemRefLookup = new ActionItemRefLookup(),
): Promise<{ ownerDelegation: DelegationCode; ownerTimezone: string; meetingId: string | null }> {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) =>
    errors.push({ field: `${prefix}${field}`, message });

  await lookup.load(em, refs);
  const owner = lookup.owner(refs.ownerId);
  const kept = owner !== null && owner.id === refs.currentOwnerId;
  if (!owner || (!owner.active && !kept) || owner.delegation === null) {
    fail('ownerId', 'ownerId must be an active member of a delegation');
  } else if (refs.visibility !== 'joint' && owner.delegation !== refs.visibility) {
    fail(
      'ownerId',
      `the owner of an item visible to ${refs.visibility} only must belong to ${refs.visibility}`,
    );
  }

  let meetingId = refs.meetingId ?? null;
  if (meetingId !== null && !lookup.meetingExists(meetingId)) {
    fail('meetingId', 'meetingId names no meeting');
  }
  if (refs.agendaItemId) {
    const agendaItem = lookup.agendaItem(refs.agendaItemId);
    if (!agendaItem || !canSee(caller, agendaItem.visibility)) {
      fail('agendaItemId', 'agendaItemId names no agenda item you can see');
    } else if (!mayRefer(refs.visibility, agendaItem.visibility)) {
      fail('agendaItemId', 'a joint item cannot refer to a delegation-only agenda item');
    } else if (meetingId !== null && agendaItem.meetingId !== meetingId) {
      fail('agendaItemId', 'the agenda item belongs to another meeting');
    } else {
      meetingId = agendaItem.meetingId;
    }
  }
  if (refs.policyItemId) {
    const policyItem = lookup.policyItem(refs.policyItemId);
    if (!policyItem || !canSee(caller, policyItem.visibility)) {
      fail('policyItemId', 'policyItemId names no policy item you can see');
    } else if (!mayRefer(refs.visibility, policyItem.visibility)) {
      fail('policyItemId', 'a joint item cannot refer to a delegation-only policy item');
    }
  }
  if (errors.length > 0 || !owner?.delegation) {
    throw new ValidationProblem(errors, 'The request refers to records that cannot be used');
  }
  return { ownerDelegation: owner.delegation, ownerTimezone: owner.timezone, meetingId };
}

/** A record may refer to joint records, and a delegation-only one to its own delegation's. */
export function mayRefer(from: Visibility, to: Visibility): boolean {
  return to === 'joint' || to === from;
}
