import { Injectable, Logger } from '@nestjs/common';
import { v7 as orderedId } from 'uuid';
import {
  In,
  LessThan,
  type EntityManager,
  type ObjectLiteral,
  type SelectQueryBuilder,
} from 'typeorm';
import { ActionItem } from '../action-items/action-item.entity.js';
import { recordEvent } from '../audit/audit-log.js';
import { insertRows } from '../database/bulk-insert.js';
import { databaseNow, isPostgres, sql, type SqlValue } from '../database/sql.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { canSee } from '../common/access.js';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import { Meeting } from '../meetings/meeting.entity.js';
import { Mailer } from '../notifications/mailer.js';
import { Notification } from '../notifications/notification.entity.js';
import { User } from '../users/user.entity.js';
import { type PlannedReminder, planReminders, type Read } from './reminder-planner.js';
import { reminderMessage, type SubjectFacts } from './reminder-messages.js';
import { Reminder, ReminderPass } from './reminder.entity.js';

export interface ReminderView {
  kind: Reminder['kind'];
  recipientId: string;
  subjectType: Reminder['subjectType'];
  subjectId: string;
  window: string;
}

/** What a pass did or would do, as admin may see it: delegation-only subjects only counted. */
export interface PassReport {
  data: ReminderView[];
  hidden: number;
  /** Reminders about joint subjects beyond `listUpTo`: counted, not listed. */
  truncated?: number;
}

/** A pass that catches up looks back at most this far, whatever the downtime. */
const LONGEST_CATCH_UP_MS = 31 * 86400 * 1000;
/** With no earlier pass, a pass looks back one scheduler interval. */
const FIRST_LOOK_BACK_MS = 3600 * 1000;
/** An e-mail claim older than this belongs to a pass that died; another pass may send it. */
const STALE_EMAIL_CLAIM_MS = 10 * 60 * 1000;
const DELIVERY_BATCH = 2000;
const EMAIL_BATCH = 100;
const MAX_EMAIL_ATTEMPTS = 5;

/**
 * The reminder pass: plan what is due into the ledger (insert-or-ignore on its unique key),
 * then claim and deliver what is pending, each reminder's notification written in the same
 * transaction that marks it sent. Correctness lives in the ledger, not in the scheduler: any
 * number of passes, at any time, on any number of instances, deliver each reminder once.
 */
@Injectable()
export class RemindersService {
  private readonly logger = new Logger(RemindersService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly mailer: Mailer,
  ) {}

  private readonly read: Read = (work) => this.uow.read(work);

  /** What a pass as of `now` would send, writing nothing. */
  async preview(now: Date): Promise<PassReport> {
    const floor = await this.floor(now);
    const report = new Report(Infinity);
    for await (const batch of planReminders(this.read, now, floor)) {
      if (batch.length > 0) {
        report.add(await this.uow.read((em) => withoutExisting(em, batch)));
      }
    }
    return report.toJSON();
  }

  /**
   * Runs a pass as of `now`, returning what it delivered. The admin route lists every
   * reminder (SPEC); the scheduler, which only logs a count, passes `listUpTo = 0` so a backlog
   * pass of tens of thousands is counted in constant memory.
   */
  async run(now: Date, listUpTo = Infinity): Promise<PassReport> {
    const floor = await this.floor(now);
    const passId = orderedId();
    await this.uow.transaction((em) =>
      em.insert(ReminderPass, {
        id: passId,
        asOf: now.toISOString(),
        startedAt: new Date().toISOString(),
        finishedAt: null,
      }),
    );
    for await (const batch of planReminders(this.read, now, floor)) {
      if (batch.length > 0) {
        await this.uow.transaction((em) => insertOrIgnore(em, batch));
      }
    }
    const delivered = await this.deliver(listUpTo);
    await this.sendEmails(passId);
    await this.uow.transaction(async (em) => {
      await em.update(ReminderPass, { id: passId }, { finishedAt: new Date().toISOString() });
      await recordEvent(em, {
        actorId: null,
        action: 'reminders.pass_run',
        entityType: 'reminder_pass',
        entityId: passId,
        changes: { asOf: now.toISOString(), delivered: delivered.count },
        visibility: 'account',
      });
    });
    return delivered.toJSON();
  }

  /** The catch-up floor: the latest earlier pass, no further back than a month. */
  private async floor(now: Date): Promise<Date> {
    const last = await this.uow.read((em) =>
      em.findOne(ReminderPass, {
        where: { asOf: LessThan(now.toISOString()) },
        order: { asOf: 'DESC' },
      }),
    );
    const floor = last ? Date.parse(last.asOf) : now.getTime() - FIRST_LOOK_BACK_MS;
    return new Date(Math.max(floor, now.getTime() - LONGEST_CATCH_UP_MS));
  }

  /**
   * Delivers pending reminders in batches: each batch is taken, its notifications written and
   * its reminders marked sent in one transaction, so a reminder is delivered once or not at all
   * (the unit of work serializes batches; several instances lock rows).
   */
  private async deliver(listUpTo: number): Promise<Report> {
    const delivered = new Report(listUpTo);
    for (;;) {
      const batch = await this.uow.transaction((em) => deliverBatch(em, this.mailer.enabled));
      if (batch === null) {
        return delivered;
      }
      delivered.add(batch);
    }
  }

  /**
   * At-least-once e-mail for delivered reminders: each batch is claimed for this pass before it
   * is sent, so overlapping passes never send one twice; a failure is retried by later passes
   * (a permanent refusal is not), with the same Message-ID each time.
   */
  private async sendEmails(passId: string): Promise<void> {
    if (!this.mailer.enabled) {
      return;
    }
    // Each message once per pass: one that fails waits for the next pass.
    const tried = new Set<string>();
    for (;;) {
      const batch = await this.uow.transaction((em) => claimEmails(em, passId, tried));
      if (batch.length === 0) {
        return;
      }
      for (const mail of batch) {
        tried.add(mail.id);
        const outcome = await this.mailer.send({
          to: mail.email,
          subject: `[JWG] ${mail.title}`,
          text: `${mail.body}\n\n-- JWG Tracker`,
          messageId: `<reminder-${mail.id}@jwg-tracker>`,
        });
        const attempts = mail.attempts + 1;
        const emailState =
          outcome === 'sent'
            ? 'sent'
            : outcome === 'refused' || attempts >= MAX_EMAIL_ATTEMPTS
              ? 'failed'
              : 'pending';
        await this.uow.transaction((em) =>
          em.update(
            Reminder,
            { id: mail.id, emailClaimedBy: passId },
            { emailState, emailAttempts: attempts, emailClaimedBy: null, emailClaimedAt: null },
          ),
        );
      }
      this.logger.log(`E-mail: ${batch.length} reminder(s) attempted`);
    }
  }
}

/** Takes e-mails due for sending (new, or abandoned by a pass that died) for this pass. */
async function claimEmails(
  em: EntityManager,
  passId: string,
  tried: Set<string>,
): Promise<{ id: string; attempts: number; email: string; title: string; body: string }[]> {
  const now = await databaseNow(em);
  const stale = new Date(Date.parse(now) - STALE_EMAIL_CLAIM_MS).toISOString();
  const query = em
    .createQueryBuilder(Reminder, 'r')
    .innerJoin(Notification, 'n', 'n.reminder_id = r.id')
    .innerJoin(User, 'u', 'u.id = r.recipient_id')
    .select([
      'r.id AS id',
      'r.email_attempts AS attempts',
      'u.email AS email',
      'u.active AS active',
      'n.title AS title',
      'n.body AS body',
    ])
    .where(
      "(r.email_state = 'pending' OR (r.email_state = 'sending' AND r.email_claimed_at < :stale))",
      { stale },
    )
    .andWhere(tried.size > 0 ? 'r.id NOT IN (:...tried)' : '1 = 1', { tried: [...tried] })
    .orderBy('r.email_claimed_at')
    .limit(EMAIL_BATCH);
  const rows = await lockedForThisPass(query, 'r').getRawMany<{
    id: string;
    attempts: number;
    email: string | null;
    active: number | boolean;
    title: string;
    body: string;
  }>();
  // An address removed, or an account deactivated, since delivery: nobody to mail.
  const gone = rows.filter((r) => !r.email || !r.active).map((r) => r.id);
  const due = rows.filter((r) => r.email && r.active);
  if (gone.length > 0) {
    await em.update(Reminder, { id: In(gone) }, { emailState: 'none' });
  }
  if (due.length > 0) {
    await em.update(
      Reminder,
      { id: In(due.map((r) => r.id)) },
      { emailState: 'sending', emailClaimedBy: passId, emailClaimedAt: now },
    );
  }
  return due.map((r) => ({ ...r, email: r.email! }));
}

/**
 * Adds planned reminders to the ledger; those already there (same recipient, subject, kind and
 * window) are ignored.
 */
function insertOrIgnore(em: EntityManager, planned: PlannedReminder[]): Promise<void> {
  const now = new Date().toISOString();
  return insertRows(
    em,
    'reminders',
    [
      'id',
      'recipient_id',
      'subject_type',
      'subject_id',
      'kind',
      'due_window',
      'state',
      'email_state',
      'email_attempts',
      'created_at',
    ],
    planned.map((r) => [
      orderedId(),
      r.recipientId,
      r.subjectType,
      r.subjectId,
      r.kind,
      r.window,
      'pending',
      'none',
      0,
      now,
    ]),
    { onConflictIgnore: true },
  );
}

/** The planned reminders that are not in the ledger yet. */
async function withoutExisting(
  em: EntityManager,
  planned: PlannedReminder[],
): Promise<PlannedReminder[]> {
  const fresh: PlannedReminder[] = [];
  for (let i = 0; i < planned.length; i += 500) {
    const batch = planned.slice(i, i + 500);
    const existing = await em.find(Reminder, {
      select: { recipientId: true, subjectId: true, kind: true, window: true },
      where: { subjectId: In([...new Set(batch.map((r) => r.subjectId))]) },
    });
    const keys = new Set(existing.map(keyOf));
    fresh.push(...batch.filter((r) => !keys.has(keyOf(r))));
  }
  return fresh;
}

const keyOf = (r: Pick<Reminder, 'recipientId' | 'subjectId' | 'kind' | 'window'>) =>
  `${r.kind}|${r.recipientId}|${r.subjectId}|${r.window}`;

/** A pending reminder with what delivery needs to know about its recipient and subject. */
interface PendingRow {
  id: string;
  recipientId: string;
  subjectType: Reminder['subjectType'];
  subjectId: string;
  kind: Reminder['kind'];
  window: string;
  recipientUserId: string | null;
  recipientDelegation: DelegationCode | null;
  recipientEmail: string | null;
  itemStatus: ActionItem['status'] | null;
  itemCode: string | null;
  itemTitle: string | null;
  itemDueDate: string | null;
  itemVisibility: ActionItem['visibility'] | null;
  meetingStatus: Meeting['status'] | null;
  meetingTitle: string | null;
  meetingNumber: number | null;
  meetingStartsOn: string | null;
  meetingEndsOn: string | null;
}

/** The oldest pending reminders, with their recipient and subject, in one statement. */
const PENDING = `SELECT r.id AS id, r.recipient_id AS "recipientId",
    r.subject_type AS "subjectType", r.subject_id AS "subjectId", r.kind AS kind,
    r.due_window AS "window", u.id AS "recipientUserId", u.delegation AS "recipientDelegation", u.email AS "recipientEmail",
    ai.status AS "itemStatus", ai.code AS "itemCode", ai.title AS "itemTitle",
    ai.due_date AS "itemDueDate", ai.visibility AS "itemVisibility",
    m.status AS "meetingStatus", m.title AS "meetingTitle", m.number AS "meetingNumber",
    m.starts_on AS "meetingStartsOn", m.ends_on AS "meetingEndsOn"
  FROM reminders r
  LEFT JOIN users u ON u.id = r.recipient_id
  LEFT JOIN action_items ai ON r.subject_type = 'action_item' AND ai.id = r.subject_id
  LEFT JOIN meetings m ON r.subject_type = 'meeting' AND m.id = r.subject_id
  WHERE r.state = 'pending'
  ORDER BY r.created_at, r.id
  LIMIT ${DELIVERY_BATCH}`;
/**
 * On PostgreSQL, the reminders a pass takes are locked until its transaction ends, and those
 * another pass (of this instance or another) holds are skipped rather than waited for or taken
 * twice. On SQLite the unit of work already runs one transaction at a time.
 */
const PENDING_LOCKED = `${PENDING} FOR UPDATE OF r SKIP LOCKED`;

const MARK_BATCH = 500;
/** Padded with nulls to MARK_BATCH ids, so that the text never changes. */
const MARK = `UPDATE reminders SET state = $1, sent_at = COALESCE($2, sent_at),
    email_state = COALESCE($3, email_state)
  WHERE id IN (${Array.from({ length: MARK_BATCH }, (_, i) => `$${i + 4}`).join(', ')})`;

const NOTIFICATION_COLUMNS = [
  'id',
  'user_id',
  'reminder_id',
  'kind',
  'subject_type',
  'subject_id',
  'title',
  'body',
  'created_at',
  'read_at',
];

/**
 * Takes the oldest pending reminders, writes their notifications and marks them sent, in the
 * caller's transaction. A subject that closed or was cancelled since planning is skipped,
 * never announced. Null when nothing is pending.
 */
async function deliverBatch(
  em: EntityManager,
  withEmail: boolean,
): Promise<PlannedReminder[] | null> {
  const { rows: claimed } = await sql<PendingRow>(em, isPostgres(em) ? PENDING_LOCKED : PENDING);
  if (claimed.length === 0) {
    return null;
  }
  const now = new Date().toISOString();
  const notifications: SqlValue[][] = [];
  const sent: string[] = [];
  const mailed: string[] = [];
  const skipped: string[] = [];
  const delivered: PlannedReminder[] = [];
  for (const reminder of claimed) {
    const facts = subjectFacts(reminder);
    // Planning only ever addresses people who can see the subject; this holds it at delivery.
    if (
      !facts ||
      reminder.recipientUserId === null ||
      (reminder.itemVisibility !== null &&
        !canSee({ delegation: reminder.recipientDelegation }, reminder.itemVisibility))
    ) {
      skipped.push(reminder.id);
      continue;
    }
    const message = reminderMessage(reminder.kind, facts);
    notifications.push([
      orderedId(),
      reminder.recipientId,
      reminder.id,
      reminder.kind,
      reminder.subjectType,
      reminder.subjectId,
      message.title,
      message.body,
      now,
      null,
    ]);
    (withEmail && reminder.recipientEmail ? mailed : sent).push(reminder.id);
    delivered.push({
      recipientId: reminder.recipientId,
      subjectType: reminder.subjectType,
      subjectId: reminder.subjectId,
      kind: reminder.kind,
      window: reminder.window,
      visibility: reminder.itemVisibility ?? 'joint',
    });
  }
  await insertRows(em, 'notifications', NOTIFICATION_COLUMNS, notifications);
  await markIn(em, sent, 'sent', now, 'none');
  await markIn(em, mailed, 'sent', now, 'pending');
  await markIn(em, skipped, 'skipped', null, null);
  return delivered;
}

/** What a notification says about its subject, or null when the subject no longer warrants one. */
function subjectFacts(reminder: PendingRow): SubjectFacts | null {
  if (reminder.subjectType === 'action_item') {
    return reminder.itemStatus !== null &&
      ['open', 'in_progress', 'blocked'].includes(reminder.itemStatus)
      ? { code: reminder.itemCode!, title: reminder.itemTitle!, dueDate: reminder.itemDueDate! }
      : null;
  }
  return reminder.meetingStatus !== null && reminder.meetingStatus !== 'cancelled'
    ? {
        title: reminder.meetingTitle!,
        number: Number(reminder.meetingNumber),
        startsOn: reminder.meetingStartsOn!,
        endsOn: reminder.meetingEndsOn!,
      }
    : null;
}

/**
 * On PostgreSQL, the rows a pass takes are locked until its transaction ends, and rows another
 * pass (of this instance or another) holds are skipped rather than waited for or taken twice.
 * On SQLite the unit of work already runs one transaction at a time.
 */
function lockedForThisPass<T extends ObjectLiteral>(
  query: SelectQueryBuilder<T>,
  alias: string,
): SelectQueryBuilder<T> {
  if (query.connection.options.type !== 'postgres') {
    return query;
  }
  return query.setLock('pessimistic_write', undefined, [alias]).setOnLocked('skip_locked');
}

/** Moves reminders to `state`; null leaves a column as it is. */
async function markIn(
  em: EntityManager,
  ids: string[],
  state: Reminder['state'],
  sentAt: string | null,
  emailState: Reminder['emailState'] | null,
): Promise<void> {
  for (let i = 0; i < ids.length; i += MARK_BATCH) {
    const chunk: SqlValue[] = ids.slice(i, i + MARK_BATCH);
    while (chunk.length < MARK_BATCH) {
      chunk.push(null);
    }
    await sql(em, MARK, [state, sentAt, emailState, ...chunk]);
  }
}

/**
 * What a pass delivered (or would), as admin may see it: the first `listUpTo` reminders about
 * joint subjects are listed, in key order; the rest, and every delegation-only one, counted.
 */
class Report {
  private readonly listed: ReminderView[] = [];
  private hidden = 0;
  private truncated = 0;

  constructor(private readonly listUpTo: number) {}

  add(reminders: PlannedReminder[]): void {
    for (const { kind, recipientId, subjectType, subjectId, window, visibility } of reminders) {
      if (visibility !== 'joint') {
        this.hidden += 1;
      } else if (this.listed.length < this.listUpTo) {
        this.listed.push({ kind, recipientId, subjectType, subjectId, window });
      } else {
        this.truncated += 1;
      }
    }
  }

  get count(): number {
    return this.listed.length + this.hidden + this.truncated;
  }

  toJSON(): PassReport {
    const data = [...this.listed].sort((a, b) =>
      keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0,
    );
    return {
      data,
      hidden: this.hidden,
      ...(this.truncated > 0 ? { truncated: this.truncated } : {}),
    };
  }
}
