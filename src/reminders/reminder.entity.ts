import { Column, Entity, PrimaryColumn } from 'typeorm';

export const REMINDER_KINDS = [
  'action_due_soon',
  'action_overdue',
  'action_escalated',
  'meeting_upcoming',
  'minutes_awaiting_approval',
  'minutes_missing',
] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];
export type SubjectType = 'action_item' | 'meeting';

/** One reminder in the ledger: for a recipient, about a subject, of a kind, in a window. */
@Entity('reminders')
export class Reminder {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'recipient_id', type: 'varchar', length: 36 })
  recipientId!: string;

  @Column({ name: 'subject_type', type: 'varchar', length: 16 })
  subjectType!: SubjectType;

  @Column({ name: 'subject_id', type: 'varchar', length: 36 })
  subjectId!: string;

  @Column({ type: 'varchar', length: 32 })
  kind!: ReminderKind;

  /**
   * Which occurrence this is: the recipient's local day it is for (due soon, overdue,
   * upcoming), or what it is once about (the due date escalated, the end date of the meeting
   * missing minutes, the circulation awaiting approval). A new due or meeting date makes new
   * windows, which re-arms the reminders.
   */
  @Column({ name: 'due_window', type: 'varchar', length: 32 })
  window!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: 'pending' | 'sent' | 'skipped';

  @Column({ name: 'sent_at', type: 'varchar', length: 24, nullable: true })
  sentAt!: string | null;

  @Column({ name: 'email_state', type: 'varchar', length: 16 })
  emailState!: 'none' | 'pending' | 'sending' | 'sent' | 'failed';

  /** The pass sending the e-mail now; another pass takes it over only once the claim is stale. */
  @Column({ name: 'email_claimed_by', type: 'varchar', length: 36, nullable: true })
  emailClaimedBy!: string | null;

  @Column({ name: 'email_claimed_at', type: 'varchar', length: 24, nullable: true })
  emailClaimedAt!: string | null;

  @Column({ name: 'email_attempts', type: 'integer' })
  emailAttempts!: number;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;
}

@Entity('reminder_passes')
export class ReminderPass {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** The moment the pass ran as (the clock, or `now` given to /reminders/run). */
  @Column({ name: 'as_of', type: 'varchar', length: 24 })
  asOf!: string;

  @Column({ name: 'started_at', type: 'varchar', length: 24 })
  startedAt!: string;

  @Column({ name: 'finished_at', type: 'varchar', length: 24, nullable: true })
  finishedAt!: string | null;
}
