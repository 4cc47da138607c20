import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Meetings, agenda items, policy-alignment items, action items, progress updates, notes and
 * idempotency records. Every index below names the query it serves.
 */
export class Workflow1763800000000 implements MigrationInterface {
  name = 'Workflow1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE meetings (
      id varchar(36) PRIMARY KEY,
      number integer NOT NULL,
      title varchar(200) NOT NULL,
      kind varchar(16) NOT NULL CHECK (kind IN ('plenary', 'intersessional', 'virtual')),
      starts_on varchar(10) NOT NULL,
      ends_on varchar(10) NOT NULL,
      location varchar(200),
      host_delegation varchar(2) NOT NULL REFERENCES delegations (code),
      status varchar(16) NOT NULL
        CHECK (status IN ('planned', 'in_session', 'held', 'cancelled')),
      minutes_status varchar(16) NOT NULL DEFAULT 'none'
        CHECK (minutes_status IN ('none', 'draft', 'circulated', 'agreed')),
      minutes_text text,
      version integer NOT NULL DEFAULT 1,
      created_at varchar(24) NOT NULL,
      updated_at varchar(24) NOT NULL,
      CHECK (ends_on >= starts_on)
    )`);
    // number is assigned as highest + 1; the unique index also serves that max().
    await db.query(`CREATE UNIQUE INDEX meetings_number ON meetings (number)`);
    // GET /meetings?from=&to= lists by start date.
    await db.query(`CREATE INDEX meetings_starts_on ON meetings (starts_on, id)`);

    await db.query(`CREATE TABLE meeting_attendees (
      meeting_id varchar(36) NOT NULL REFERENCES meetings (id),
      user_id varchar(36) NOT NULL REFERENCES users (id),
      PRIMARY KEY (meeting_id, user_id)
    )`);

    await db.query(`CREATE TABLE meeting_decisions (
      meeting_id varchar(36) NOT NULL REFERENCES meetings (id),
      seq integer NOT NULL,
      text text NOT NULL,
      created_at varchar(24) NOT NULL,
      PRIMARY KEY (meeting_id, seq)
    )`);

    await db.query(`CREATE TABLE minutes_approvals (
      meeting_id varchar(36) NOT NULL REFERENCES meetings (id),
      delegation varchar(2) NOT NULL REFERENCES delegations (code),
      user_id varchar(36) NOT NULL REFERENCES users (id),
      at varchar(24) NOT NULL,
      PRIMARY KEY (meeting_id, delegation)
    )`);

    await db.query(`CREATE TABLE policy_items (
      id varchar(36) PRIMARY KEY,
      code varchar(16) NOT NULL,
      title varchar(200) NOT NULL,
      description text NOT NULL DEFAULT '',
      isa_reference varchar(200),
      status varchar(24) NOT NULL CHECK (status IN ('proposed', 'under_discussion',
        'agreed_in_principle', 'aligned', 'implemented', 'withdrawn')),
      lead_in varchar(36) REFERENCES users (id),
      lead_us varchar(36) REFERENCES users (id),
      target_date varchar(10),
      concur_in_user_id varchar(36) REFERENCES users (id),
      concur_in_at varchar(24),
      concur_us_user_id varchar(36) REFERENCES users (id),
      concur_us_at varchar(24),
      visibility varchar(5) NOT NULL CHECK (visibility IN ('joint', 'IN', 'US')),
      version integer NOT NULL DEFAULT 1,
      created_at varchar(24) NOT NULL,
      updated_at varchar(24) NOT NULL
    )`);
    await db.query(`CREATE UNIQUE INDEX policy_items_code ON policy_items (code)`);
    // GET /policy-items pages by creation within the caller's visibility scope.
    await db.query(`CREATE INDEX policy_items_created ON policy_items (created_at, id)`);

    await db.query(`CREATE TABLE agenda_items (
      id varchar(36) PRIMARY KEY,
      meeting_id varchar(36) NOT NULL REFERENCES meetings (id),
      position integer NOT NULL,
      title varchar(200) NOT NULL,
      description text NOT NULL DEFAULT '',
      lead_delegation varchar(2) REFERENCES delegations (code),
      policy_item_id varchar(36) REFERENCES policy_items (id),
      status varchar(16) NOT NULL
        CHECK (status IN ('pending', 'discussed', 'deferred', 'withdrawn')),
      outcome text,
      carried_from_id varchar(36) REFERENCES agenda_items (id),
      visibility varchar(5) NOT NULL CHECK (visibility IN ('joint', 'IN', 'US')),
      version integer NOT NULL DEFAULT 1,
      created_at varchar(24) NOT NULL,
      updated_at varchar(24) NOT NULL
    )`);
    // A meeting's agenda in order (GET /meetings/:id/agenda-items, carry-over).
    await db.query(`CREATE INDEX agenda_items_meeting ON agenda_items (meeting_id, position, id)`);

    await db.query(`CREATE TABLE action_items (
      id varchar(36) PRIMARY KEY,
      code varchar(16) NOT NULL,
      title varchar(200) NOT NULL,
      description text NOT NULL DEFAULT '',
      status varchar(16) NOT NULL
        CHECK (status IN ('open', 'in_progress', 'blocked', 'done', 'cancelled')),
      owner_id varchar(36) NOT NULL REFERENCES users (id),
      owner_delegation varchar(2) NOT NULL REFERENCES delegations (code),
      due_date varchar(10) NOT NULL,
      meeting_id varchar(36) REFERENCES meetings (id),
      agenda_item_id varchar(36) REFERENCES agenda_items (id),
      policy_item_id varchar(36) REFERENCES policy_items (id),
      visibility varchar(5) NOT NULL CHECK (visibility IN ('joint', 'IN', 'US')),
      completed_at varchar(24),
      version integer NOT NULL DEFAULT 1,
      created_at varchar(24) NOT NULL,
      updated_at varchar(24) NOT NULL
    )`);
    await db.query(`CREATE UNIQUE INDEX action_items_code ON action_items (code)`);
    // GET /me/action-items and ?owner=: one owner's items by due date (the hot read; the
    // status is filtered from the index entries, so no table row is read for closed items).
    await db.query(
      `CREATE INDEX action_items_owner_due ON action_items (owner_id, due_date, id, status, visibility)`,
    );
    // GET /action-items default sort (dueDate) with the visibility scope and status filters.
    await db.query(`CREATE INDEX action_items_due ON action_items (due_date, id)`);
    // ?status= with the default sort, e.g. every open item by due date (reminders too).
    await db.query(`CREATE INDEX action_items_status_due ON action_items (status, due_date, id)`);
    // sort=updatedAt / -updatedAt.
    await db.query(`CREATE INDEX action_items_updated ON action_items (updated_at, id)`);
    // ?delegation= (the owner's) by due date.
    await db.query(
      `CREATE INDEX action_items_delegation_due ON action_items (owner_delegation, due_date, id)`,
    );
    // ?meetingId= and ?policyItemId=.
    await db.query(`CREATE INDEX action_items_meeting ON action_items (meeting_id, due_date, id)`);
    await db.query(
      `CREATE INDEX action_items_policy_item ON action_items (policy_item_id, due_date, id)`,
    );

    await db.query(`CREATE TABLE action_item_updates (
      id varchar(36) PRIMARY KEY,
      action_item_id varchar(36) NOT NULL REFERENCES action_items (id),
      author_id varchar(36) NOT NULL REFERENCES users (id),
      note text NOT NULL,
      status varchar(16),
      created_at varchar(24) NOT NULL
    )`);
    // An item's progress history, newest first.
    await db.query(
      `CREATE INDEX action_item_updates_item ON action_item_updates (action_item_id, created_at, id)`,
    );

    await db.query(`CREATE TABLE notes (
      id varchar(36) PRIMARY KEY,
      parent_type varchar(16) NOT NULL
        CHECK (parent_type IN ('meeting', 'policy_item', 'action_item')),
      parent_id varchar(36) NOT NULL,
      body text NOT NULL,
      author_id varchar(36) NOT NULL REFERENCES users (id),
      delegation varchar(2) NOT NULL REFERENCES delegations (code),
      created_at varchar(24) NOT NULL
    )`);
    // A parent's notes for one delegation, in order.
    await db.query(
      `CREATE INDEX notes_parent ON notes (parent_type, parent_id, delegation, created_at, id)`,
    );

    // Record codes (PA-001, AI-001) count per visibility scope: a delegation-only item takes
    // its code from its own sequence (PA-IN-001), so gaps in the joint sequence never reveal
    // that the other side has records; release to joint assigns the next joint code.
    await db.query(`CREATE TABLE code_sequences (
      name varchar(16) PRIMARY KEY,
      last integer NOT NULL
    )`);

    await db.query(`CREATE TABLE idempotency_records (
      user_id varchar(36) NOT NULL REFERENCES users (id),
      key varchar(200) NOT NULL,
      request_hash varchar(64) NOT NULL,
      status_code integer NOT NULL,
      response_body text NOT NULL,
      created_at varchar(24) NOT NULL,
      PRIMARY KEY (user_id, key)
    )`);
    // Purging records older than 24 h.
    await db.query(`CREATE INDEX idempotency_records_created ON idempotency_records (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'idempotency_records',
      'code_sequences',
      'notes',
      'action_item_updates',
      'action_items',
      'agenda_items',
      'policy_items',
      'minutes_approvals',
      'meeting_decisions',
      'meeting_attendees',
      'meetings',
    ]) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
