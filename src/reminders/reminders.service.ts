import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
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
import { databaseNow } from '../database/sql.js';
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
    const planned: PlannedReminder[] = [];
    for await (const batch of planReminders(this.read, now, floor)) {
      planned.push(...(await this.uow.read((em) => withoutExisting(em, batch))));
    }
    return report(planned);
  }

  /** Runs a pass as of `now`, returning what it delivered. */
  async run(now: Date): Promise<PassReport> {
    const floor = await this.floor(now);
    const passId = randomUUID();
    await this.uow.transaction((em) =>
      em.insert(ReminderPass, {
        id: passId,
        asOf: now.toISOString(),
        startedAt: new Date().toISOString(),
        finishedAt: null,
      }),
    );
    for await (const batch of planReminders(this.read, now, floor)) {
      await this.uow.transaction((em) => insertOrIgnore(em, batch));
    }
    const delivered = await this.deliver();
    await this.sendEmails(passId);
    await this.uow.transaction(async (em) => {
      await em.update(ReminderPass, { id: passId }, { finishedAt: new Date().toISOString() });
      await recordEvent(em, {
        actorId: null,
        action: 'reminders.pass_run',
        entityType: 'reminder_pass',
        entityId: passId,
        changes: { asOf: now.toISOString(), delivered: delivered.length },
        visibility: 'account',
      });
    });
    return report(delivered);
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
  private async deliver(): Promise<(PlannedReminder & { id: string })[]> {
    const delivered: (PlannedReminder & { id: string })[] = [];
    for (;;) {
      const batch = await this.uow.transaction((em) => deliverBatch(em, this.mailer.enabled));
      if (batch === null) {
        return delivered;
      }
      delivered.push(...batch);
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
      randomUUID(),
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

/**
 * Takes the oldest pending reminders, writes their notifications and marks them sent, in the
 * caller's transaction. A subject that closed or was cancelled since planning is skipped,
 * never announced. Null when nothing is pending.
 */
async function deliverBatch(
  em: EntityManager,
  withEmail: boolean,
): Promise<(PlannedReminder & { id: string })[] | null> {
  const claimed = await lockedForThisPass(
    em
      .createQueryBuilder(Reminder, 'r')
      .where("r.state = 'pending'")
      .orderBy('r.created_at', 'ASC')
      .addOrderBy('r.id', 'ASC')
      .limit(DELIVERY_BATCH),
    'r',
  ).getMany();
  if (claimed.length === 0) {
    return null;
  }
  const itemIds = claimed.filter((r) => r.subjectType === 'action_item').map((r) => r.subjectId);
  const meetingIds = claimed.filter((r) => r.subjectType === 'meeting').map((r) => r.subjectId);
  const items = new Map((await findIn(em, ActionItem, itemIds)).map((i) => [i.id, i] as const));
  const meetings = new Map((await findIn(em, Meeting, meetingIds)).map((m) => [m.id, m] as const));
  const recipients = new Map(
    (
      await em
        .createQueryBuilder(User, 'u')
        .select(['u.id AS id', 'u.delegation AS delegation', 'u.email AS email'])
        .where('u.id IN (:...ids)', { ids: [...new Set(claimed.map((r) => r.recipientId))] })
        .getRawMany<{ id: string; delegation: DelegationCode | null; email: string | null }>()
    ).map((u) => [u.id, u] as const),
  );
  const now = new Date().toISOString();
  const notifications: Notification[] = [];
  const sent: string[] = [];
  const mailed: string[] = [];
  const skipped: string[] = [];
  const delivered: (PlannedReminder & { id: string })[] = [];
  for (const reminder of claimed) {
    const item = items.get(reminder.subjectId);
    const meeting = meetings.get(reminder.subjectId);
    const recipient = recipients.get(reminder.recipientId);
    const facts = subjectFacts(reminder, item, meeting);
    // Planning only ever addresses people who can see the subject; this holds it at delivery.
    if (!facts || !recipient || (item && !canSee(recipient, item.visibility))) {
      skipped.push(reminder.id);
      continue;
    }
    notifications.push({
      id: randomUUID(),
      userId: reminder.recipientId,
      reminderId: reminder.id,
      kind: reminder.kind,
      subjectType: reminder.subjectType,
      subjectId: reminder.subjectId,
      ...reminderMessage(reminder.kind, facts),
      createdAt: now,
      readAt: null,
    });
    (withEmail && recipient.email ? mailed : sent).push(reminder.id);
    delivered.push({
      id: reminder.id,
      recipientId: reminder.recipientId,
      subjectType: reminder.subjectType,
      subjectId: reminder.subjectId,
      kind: reminder.kind,
      window: reminder.window,
      visibility: item?.visibility ?? 'joint',
    });
  }
  await insertRows(
    em,
    'notifications',
    [
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
    ],
    notifications.map((n) => [
      n.id,
      n.userId,
      n.reminderId,
      n.kind,
      n.subjectType,
      n.subjectId,
      n.title,
      n.body,
      n.createdAt,
      null,
    ]),
  );
  await markIn(em, sent, { state: 'sent', sentAt: now, emailState: 'none' });
  await markIn(em, mailed, { state: 'sent', sentAt: now, emailState: 'pending' });
  await markIn(em, skipped, { state: 'skipped' });
  return delivered;
}

/** What a notification says about its subject, or null when the subject no longer warrants one. */
function subjectFacts(
  reminder: Reminder,
  item: ActionItem | undefined,
  meeting: Meeting | undefined,
): SubjectFacts | null {
  if (reminder.subjectType === 'action_item') {
    return item && ['open', 'in_progress', 'blocked'].includes(item.status)
      ? { code: item.code, title: item.title, dueDate: item.dueDate }
      : null;
  }
  return meeting && meeting.status !== 'cancelled'
    ? {
        title: meeting.title,
        number: meeting.number,
        startsOn: meeting.startsOn,
        endsOn: meeting.endsOn,
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

async function findIn<T extends { id: string }>(
  em: EntityManager,
  entity: new () => T,
  ids: string[],
): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    found.push(...(await em.findBy(entity, { id: In(ids.slice(i, i + 500)) } as never)));
  }
  return found;
}

async function markIn(em: EntityManager, ids: string[], changes: Partial<Reminder>): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await em.update(Reminder, { id: In(ids.slice(i, i + 500)) }, changes);
  }
}

function report(reminders: PlannedReminder[]): PassReport {
  const listed = reminders
    .filter((r) => r.visibility === 'joint')
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  return {
    data: listed.map(({ kind, recipientId, subjectType, subjectId, window }) => ({
      kind,
      recipientId,
      subjectType,
      subjectId,
      window,
    })),
    hidden: reminders.length - listed.length,
  };
}
