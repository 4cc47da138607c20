import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The reminder ledger, in-app notifications and calendar feeds. */
export class Reminders1763900000000 implements MigrationInterface {
  name = 'Reminders1763900000000';

  async up(db: QueryRunner): Promise<void> {
    // When the minutes were last circulated: one approval reminder per circulation.
    await db.query(`ALTER TABLE meetings ADD COLUMN minutes_circulated_at varchar(24)`);

    // Each row is one reminder for one recipient about one subject in one window; the unique
    // key makes planning idempotent (insert-or-ignore), across passes, restarts and instances.
    await db.query(`CREATE TABLE reminders (
      id varchar(36) PRIMARY KEY,
      recipient_id varchar(36) NOT NULL REFERENCES users (id),
      subject_type varchar(16) NOT NULL CHECK (subject_type IN ('action_item', 'meeting')),
      subject_id varchar(36) NOT NULL,
      kind varchar(32) NOT NULL CHECK (kind IN ('action_due_soon', 'action_overdue',
        'action_escalated', 'meeting_upcoming', 'minutes_awaiting_approval', 'minutes_missing')),
      due_window varchar(32) NOT NULL,
      state varchar(16) NOT NULL CHECK (state IN ('pending', 'sent', 'skipped')),
      sent_at varchar(24),
      email_state varchar(16) NOT NULL DEFAULT 'none'
        CHECK (email_state IN ('none', 'pending', 'sending', 'sent', 'failed')),
      email_claimed_by varchar(36),
      email_claimed_at varchar(24),
      email_attempts integer NOT NULL DEFAULT 0,
      created_at varchar(24) NOT NULL
    )`);
    await db.query(`CREATE UNIQUE INDEX reminders_once
      ON reminders (recipient_id, subject_type, subject_id, kind, due_window)`);
    // Delivery takes pending rows oldest first, and e-mail the rows waiting to be sent; each
    // partial index holds only the few rows in that state, however large the ledger grows.
    await db.query(`CREATE INDEX reminders_pending ON reminders (created_at, id)
      WHERE state = 'pending'`);
    await db.query(`CREATE INDEX reminders_email_due ON reminders (email_claimed_at)
      WHERE email_state IN ('pending', 'sending')`);
    // The planner walks the open action items in id order, batch by batch.
    await db.query(`CREATE INDEX action_items_open ON action_items (id)
      WHERE status IN ('open', 'in_progress', 'blocked')`);

    await db.query(`CREATE TABLE reminder_passes (
      id varchar(36) PRIMARY KEY,
      as_of varchar(24) NOT NULL,
      started_at varchar(24) NOT NULL,
      finished_at varchar(24)
    )`);
    // The last pass before a given moment: the start of the window a pass catches up.
    await db.query(`CREATE INDEX reminder_passes_as_of ON reminder_passes (as_of)`);

    await db.query(`CREATE TABLE notifications (
      id varchar(36) PRIMARY KEY,
      user_id varchar(36) NOT NULL REFERENCES users (id),
      reminder_id varchar(36) REFERENCES reminders (id),
      kind varchar(32) NOT NULL,
      subject_type varchar(16) NOT NULL,
      subject_id varchar(36) NOT NULL,
      title varchar(300) NOT NULL,
      body text NOT NULL,
      created_at varchar(24) NOT NULL,
      read_at varchar(24)
    )`);
    await db.query(`CREATE UNIQUE INDEX notifications_reminder ON notifications (reminder_id)`);
    // GET /me/notifications, newest first; the partial index serves ?unread=true.
    await db.query(`CREATE INDEX notifications_user ON notifications (user_id, created_at, id)`);
    await db.query(`CREATE INDEX notifications_unread ON notifications (user_id, created_at, id)
      WHERE read_at IS NULL`);

    // One feed per user; only the token's hash is kept, and a new token replaces the old one.
    await db.query(`CREATE TABLE calendar_feeds (
      user_id varchar(36) PRIMARY KEY REFERENCES users (id),
      token_hash varchar(64) NOT NULL,
      created_at varchar(24) NOT NULL
    )`);
    await db.query(`CREATE UNIQUE INDEX calendar_feeds_token ON calendar_feeds (token_hash)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX action_items_open`);
    for (const table of ['calendar_feeds', 'notifications', 'reminder_passes', 'reminders']) {
      await db.query(`DROP TABLE ${table}`);
    }
    await db.query(`ALTER TABLE meetings DROP COLUMN minutes_circulated_at`);
  }
}
