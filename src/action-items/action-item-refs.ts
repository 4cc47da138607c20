import type { EntityManager } from 'typeorm';
import { canSee, type Visibility } from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { type FieldError, ValidationProblem } from '../common/problem-details.filter.js';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import { AgendaItem } from '../agenda/agenda-item.entity.js';
import { Meeting } from '../meetings/meeting.entity.js';
import { PolicyItem } from '../policy-items/policy-item.entity.js';
import { User } from '../users/user.entity.js';

interface ActionItemRefs {
  ownerId: string;
  visibility: Visibility;
  meetingId?: string | null;
  agendaItemId?: string | null;
  policyItemId?: string | null;
  /** The owner the item already has: kept as is, it need not still be active. */
  currentOwnerId?: string;
}

/**
 * Checks what an action item points at, all at once, and reports every problem as a 400 with
 * its field: the owner is an active delegation member (of the item's delegation when it is
 * delegation-only; an owner the item already has may have been deactivated since, and the
 * item must still be movable, cancellable and reassignable); the meeting, agenda item and
 * policy item exist and are visible to the caller; a joint item refers to joint records only
 * (else it would reveal the other side's).
 * Returns what follows from them: the owner's delegation and timezone, and the meeting of the
 * agenda item when none was given.
 */
export async function resolveActionItemRefs(
  em: EntityManager,
  caller: AuthUser,
  refs: ActionItemRefs,
  prefix: string,
): Promise<{ ownerDelegation: DelegationCode; ownerTimezone: string; meetingId: string | null }> {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) =>
    errors.push({ field: `${prefix}${field}`, message });

  const owner = await em.findOneBy(User, { id: refs.ownerId });
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
  if (meetingId !== null && !(await em.existsBy(Meeting, { id: meetingId }))) {
    fail('meetingId', 'meetingId names no meeting');
  }
  if (refs.agendaItemId) {
    const agendaItem = await em.findOneBy(AgendaItem, { id: refs.agendaItemId });
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
    const policyItem = await em.findOneBy(PolicyItem, { id: refs.policyItemId });
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
