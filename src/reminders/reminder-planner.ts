import type { EntityManager } from 'typeorm';
import type { Visibility } from '../common/access.js';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import type { Role } from '../common/permissions.js';
import { sql } from '../database/sql.js';
import { User } from '../users/user.entity.js';
import type { ReminderKind, SubjectType } from './reminder.entity.js';
import {
  dueSoonWindows,
  escalationDue,
  hasCome,
  latestEscalatedDueDate,
  localClock,
  type LocalClock,
  minutesMissingDue,
  overdueWindow,
  planningHorizon,
  upcomingWindow,
} from './windows.js';

/** A reminder the pass wants to exist, before the ledger decides whether it is new. */
export interface PlannedReminder {
  recipientId: string;
  subjectType: SubjectType;
  subjectId: string;
  kind: ReminderKind;
  window: string;
  /** The subject's visibility: admin's reports list joint subjects only. */
  visibility: Visibility;
}

interface Recipient {
  id: string;
  role: Role;
  delegation: DelegationCode | null;
  timezone: string;
}

const BATCH = 5000;
const OPEN_STATUSES = ['open', 'in_progress', 'blocked'] as const;

interface OpenItem {
  id: string;
  ownerId: string;
  ownerDelegation: DelegationCode;
  dueDate: string;
  visibility: Visibility;
  /** The escalation the ledger already holds for this item and due date, if any. */
  escalation: string | null;
}

/**
 * A batch of one open status, along (status, due_date, id) from a keyset: items due up to the
 * horizon ($4), with the escalation the ledger already holds for the item's due date and its
 * delegation's active DSA (found through the users_one_active_dsa index, hence the bare
 * `d.active`), looked up only for items due by $5. The pass then plans no escalation twice:
 * at steady state the ledger holds one for most old items.
 */
const OPEN_ITEMS = `SELECT ai.id AS id, ai.owner_id AS "ownerId",
    ai.owner_delegation AS "ownerDelegation", ai.due_date AS "dueDate",
    ai.visibility AS visibility, e.id AS escalation
  FROM action_items ai
  LEFT JOIN users d ON ai.due_date <= $5 AND d.delegation = ai.owner_delegation
    AND d.role = 'dsa' AND d.active
  LEFT JOIN reminders e ON e.recipient_id = d.id AND e.subject_type = 'action_item'
    AND e.subject_id = ai.id AND e.kind = 'action_escalated' AND e.due_window = ai.due_date
  WHERE ai.status = $1 AND (ai.due_date, ai.id) > ($2, $3) AND ai.due_date <= $4
  ORDER BY ai.due_date, ai.id
  LIMIT ${BATCH}`;

/** Runs a read in its own unit of work, so that other requests go on between batches. */
export type Read = <T>(work: (em: EntityManager) => Promise<T>) => Promise<T>;

/**
 * Works out, as of `now`, every reminder that is due: walks the open action items in batches
 * (bounded memory at any size), leaving out the escalations the ledger already holds, and the
 * meetings that can need one. `floor` is the
 * previous pass: day-bound windows older than its local day are not caught up again.
 */
export async function* planReminders(
  read: Read,
  now: Date,
  floor: Date,
): AsyncGenerator<PlannedReminder[]> {
  const recipients = await read((em) =>
    em
      .createQueryBuilder(User, 'u')
      .select([
        'u.id AS id',
        'u.role AS role',
        'u.delegation AS delegation',
        'u.timezone AS timezone',
      ])
      .where('u.active = :active', { active: true })
      .getRawMany<Recipient>(),
  );
  const clocks = new Map<string, { clock: LocalClock; floorDay: string }>();
  const clockOf = (user: Recipient) => {
    let entry = clocks.get(user.timezone);
    if (!entry) {
      entry = {
        clock: localClock(now, user.timezone),
        floorDay: localClock(floor, user.timezone).today,
      };
      clocks.set(user.timezone, entry);
    }
    return entry;
  };
  const byId = new Map(recipients.map((u) => [u.id, u]));
  const dsaOf = new Map(recipients.filter((u) => u.role === 'dsa').map((u) => [u.delegation, u]));

  // Items due after the horizon need nothing yet; the ledger is asked only about items whose
  // escalation has come (for the DSA whose day is furthest on).
  const horizon = maxOf(recipients.map((u) => planningHorizon(clockOf(u).clock)));
  const escalatedUpTo = maxOf(
    [...dsaOf.values()].map((dsa) => latestEscalatedDueDate(clockOf(dsa).clock)),
  );
  for (const status of OPEN_STATUSES) {
    let after = { dueDate: '', id: '' };
    for (;;) {
      const { rows: items } = await read((em) =>
        sql<OpenItem>(em, OPEN_ITEMS, [status, after.dueDate, after.id, horizon, escalatedUpTo]),
      );
      if (items.length === 0) {
        break;
      }
      after = items[items.length - 1];
      yield planItems(items, byId, dsaOf, clockOf);
      if (items.length < BATCH) {
        break;
      }
    }
  }

  yield await read((em) => planMeetingReminders(em, recipients, clockOf));
}

function planItems(
  items: OpenItem[],
  byId: Map<string, Recipient>,
  dsaOf: Map<DelegationCode | null, Recipient>,
  clockOf: (user: Recipient) => { clock: LocalClock; floorDay: string },
): PlannedReminder[] {
  const planned: PlannedReminder[] = [];
  for (const item of items) {
    const subject = {
      subjectType: 'action_item' as const,
      subjectId: item.id,
      visibility: item.visibility,
    };
    const owner = byId.get(item.ownerId);
    if (owner) {
      const { clock, floorDay } = clockOf(owner);
      for (const window of dueSoonWindows(item.dueDate, clock, floorDay)) {
        planned.push({ ...subject, recipientId: owner.id, kind: 'action_due_soon', window });
      }
      const overdue = overdueWindow(item.dueDate, clock, floorDay);
      if (overdue) {
        planned.push({
          ...subject,
          recipientId: owner.id,
          kind: 'action_overdue',
          window: overdue,
        });
      }
    }
    const dsa = dsaOf.get(item.ownerDelegation);
    if (dsa && item.escalation === null && escalationDue(item.dueDate, clockOf(dsa).clock)) {
      planned.push({
        ...subject,
        recipientId: dsa.id,
        kind: 'action_escalated',
        window: item.dueDate,
      });
    }
  }
  return planned;
}

function maxOf(days: string[]): string {
  return days.reduce((max, day) => (day > max ? day : max), '');
}

async function planMeetingReminders(
  em: EntityManager,
  recipients: Recipient[],
  clockOf: (user: Recipient) => { clock: LocalClock; floorDay: string },
): Promise<PlannedReminder[]> {
  const meetings: {
    id: string;
    status: string;
    starts_on: string;
    ends_on: string;
    minutes_status: string;
    minutes_circulated_at: string | null;
  }[] = await em.query(
    `SELECT id, status, starts_on, ends_on, minutes_status, minutes_circulated_at FROM meetings
     WHERE status IN ('planned', 'in_session')
        OR (status = 'held' AND minutes_status = 'none')
        OR (status <> 'cancelled' AND minutes_status = 'circulated')`,
  );
  const approvals: { meeting_id: string; delegation: DelegationCode }[] = await em.query(
    `SELECT a.meeting_id, a.delegation FROM minutes_approvals a
     JOIN meetings m ON m.id = a.meeting_id WHERE m.minutes_status = 'circulated'`,
  );
  const planned: PlannedReminder[] = [];
  for (const meeting of meetings) {
    const subject = {
      subjectType: 'meeting' as const,
      subjectId: meeting.id,
      visibility: 'joint' as const,
    };
    if (meeting.status === 'planned' || meeting.status === 'in_session') {
      for (const user of recipients) {
        const { clock, floorDay } = clockOf(user);
        const window = upcomingWindow(meeting.starts_on, clock, floorDay);
        if (window) {
          planned.push({ ...subject, recipientId: user.id, kind: 'meeting_upcoming', window });
        }
      }
    }
    if (meeting.status === 'held' && meeting.minutes_status === 'none') {
      for (const user of recipients.filter((u) => u.role === 'secretariat')) {
        if (minutesMissingDue(meeting.ends_on, clockOf(user).clock)) {
          planned.push({
            ...subject,
            recipientId: user.id,
            kind: 'minutes_missing',
            window: meeting.ends_on,
          });
        }
      }
    }
    if (meeting.minutes_status === 'circulated') {
      const circulatedAt = meeting.minutes_circulated_at ?? '';
      const approved = new Set(
        approvals.filter((a) => a.meeting_id === meeting.id).map((a) => a.delegation),
      );
      for (const dsa of recipients.filter(
        (u) => u.role === 'dsa' && u.delegation && !approved.has(u.delegation),
      )) {
        const circulatedOn = localClock(new Date(circulatedAt || 0), dsa.timezone).today;
        if (hasCome(circulatedOn, clockOf(dsa).clock)) {
          planned.push({
            ...subject,
            recipientId: dsa.id,
            kind: 'minutes_awaiting_approval',
            window: circulatedAt || 'circulated',
          });
        }
      }
    }
  }
  return planned;
}
