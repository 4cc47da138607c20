import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In, LessThan, type EntityManager } from 'typeorm';
import { ActionItem } from '../action-items/action-item.entity.js';
import { recordEvent } from '../audit/audit-log.js';
import { UnitOfWork } from '../database/unit-of-work.js';
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
/** A claim older than this belongs to a pass that died; another pass may take the reminder. */
const STALE_CLAIM_MS = 10 * 60 * 1000;
const DELIVERY_BATCH = 500;
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
    const delivered = await this.deliver(passId);
    await this.sendEmails();
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

  /** Claims pending reminders batch by batch and delivers each one in-app. */
  private async deliver(passId: string): Promise<(PlannedReminder & { id: string })[]> {
    const delivered: (PlannedReminder & { id: string })[] = [];
    for (;;) {
      const claimed = await this.uow.transaction((em) => claim(em, passId));
      if (claimed.length === 0) {
        return delivered;
      }
      delivered.push(
        ...(await this.uow.transaction((em) =>
          deliverClaimed(em, passId, claimed, this.mailer.enabled),
        )),
      );
    }
  }

  /** At-least-once e-mail for delivered reminders, retried by later passes on failure. */
  private async sendEmails(): Promise<void> {
    if (!this.mailer.enabled) {
      return;
    }
    const pending = await this.uow.read((em) =>
      em
        .createQueryBuilder(Reminder, 'r')
        .innerJoin(Notification, 'n', 'n.reminder_id = r.id')
        .innerJoin(User, 'u', 'u.id = r.recipient_id')
        .select([
          'r.id AS id',
          'r.email_attempts AS attempts',
          'u.email AS email',
          'n.title AS title',
          'n.body AS body',
        ])
        .where("r.email_state = 'pending'")
        .getRawMany<{ id: string; attempts: number; email: string; title: string; body: string }>(),
    );
    for (const mail of pending) {
      const sent = await this.mailer.send({
        to: mail.email,
        subject: `[JWG] ${mail.title}`,
        text: `${mail.body}\n\n-- JWG Tracker`,
        messageId: `<reminder-${mail.id}@jwg-tracker>`,
      });
      const attempts = mail.attempts + 1;
      await this.uow.transaction((em) =>
        em.update(
          Reminder,
          { id: mail.id },
          {
            emailState: sent ? 'sent' : attempts >= MAX_EMAIL_ATTEMPTS ? 'failed' : 'pending',
            emailAttempts: attempts,
          },
        ),
      );
    }
    if (pending.length > 0) {
      this.logger.log(`E-mail: ${pending.length} reminder(s) attempted`);
    }
  }
}

async function insertOrIgnore(em: EntityManager, planned: PlannedReminder[]): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < planned.length; i += 200) {
    await em
      .createQueryBuilder()
      .insert()
      .into(Reminder)
      .values(
        planned.slice(i, i + 200).map(({ visibility: _visibility, ...r }) => ({
          id: randomUUID(),
          ...r,
          state: 'pending' as const,
          claimedBy: null,
          claimedAt: null,
          sentAt: null,
          emailState: 'none' as const,
          emailAttempts: 0,
          createdAt: now,
        })),
      )
      .orIgnore()
      .execute();
  }
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

async function claim(em: EntityManager, passId: string): Promise<Reminder[]> {
  const now = new Date();
  const stale = new Date(now.getTime() - STALE_CLAIM_MS).toISOString();
  const rows = await em
    .createQueryBuilder(Reminder, 'r')
    .where("r.state = 'pending' OR (r.state = 'claimed' AND r.claimed_at < :stale)", { stale })
    .orderBy('r.created_at')
    .addOrderBy('r.id')
    .limit(DELIVERY_BATCH)
    .getMany();
  if (rows.length > 0) {
    await em.update(
      Reminder,
      { id: In(rows.map((r) => r.id)) },
      { state: 'claimed', claimedBy: passId, claimedAt: now.toISOString() },
    );
  }
  return rows;
}

/**
 * Writes the notifications of claimed reminders and marks them sent, in one transaction. A
 * subject that closed or was cancelled since planning is skipped, never announced.
 */
async function deliverClaimed(
  em: EntityManager,
  passId: string,
  claimed: Reminder[],
  withEmail: boolean,
): Promise<(PlannedReminder & { id: string })[]> {
  const itemIds = claimed.filter((r) => r.subjectType === 'action_item').map((r) => r.subjectId);
  const meetingIds = claimed.filter((r) => r.subjectType === 'meeting').map((r) => r.subjectId);
  const items = new Map(
    (itemIds.length ? await em.findBy(ActionItem, { id: In(itemIds) }) : []).map((i) => [i.id, i]),
  );
  const meetings = new Map(
    (meetingIds.length ? await em.findBy(Meeting, { id: In(meetingIds) }) : []).map((m) => [
      m.id,
      m,
    ]),
  );
  const emails = new Map(
    (
      await em.find(User, {
        select: { id: true, email: true },
        where: { id: In(claimed.map((r) => r.recipientId)) },
      })
    ).map((u) => [u.id, u.email]),
  );
  const now = new Date().toISOString();
  const delivered: (PlannedReminder & { id: string })[] = [];
  for (const reminder of claimed) {
    const item = items.get(reminder.subjectId);
    const meeting = meetings.get(reminder.subjectId);
    const facts: SubjectFacts | null =
      reminder.subjectType === 'action_item'
        ? item && ['open', 'in_progress', 'blocked'].includes(item.status)
          ? { code: item.code, title: item.title, dueDate: item.dueDate }
          : null
        : meeting && meeting.status !== 'cancelled'
          ? {
              title: meeting.title,
              number: meeting.number,
              startsOn: meeting.startsOn,
              endsOn: meeting.endsOn,
            }
          : null;
    const owned = { id: reminder.id, claimedBy: passId };
    if (!facts) {
      await em.update(Reminder, owned, { state: 'skipped' });
      continue;
    }
    const message = reminderMessage(reminder.kind, facts);
    await em.insert(Notification, {
      id: randomUUID(),
      userId: reminder.recipientId,
      reminderId: reminder.id,
      kind: reminder.kind,
      subjectType: reminder.subjectType,
      subjectId: reminder.subjectId,
      ...message,
      createdAt: now,
      readAt: null,
    });
    await em.update(Reminder, owned, {
      state: 'sent',
      sentAt: now,
      emailState: withEmail && emails.get(reminder.recipientId) ? 'pending' : 'none',
    });
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
  return delivered;
}

function report(reminders: PlannedReminder[]): PassReport {
  const listed = reminders
    .filter((r) => r.visibility === 'joint')
    .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
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
