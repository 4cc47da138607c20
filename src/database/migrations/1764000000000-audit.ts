import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: an append-only, SHA-256 chained log. The database itself refuses to update
 * or delete an event; the head row records the last event, so that removing the newest events
 * is detected too.
 */
export class Audit1764000000000 implements MigrationInterface {
  name = 'Audit1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE audit_events (
      id varchar(36) PRIMARY KEY,
      seq integer NOT NULL,
      at varchar(24) NOT NULL,
      actor_id varchar(36),
      action varchar(64) NOT NULL,
      entity_type varchar(32) NOT NULL,
      entity_id varchar(36),
      changes text NOT NULL,
      visibility varchar(8) NOT NULL CHECK (visibility IN ('joint', 'IN', 'US', 'account')),
      prev_hash varchar(64) NOT NULL,
      hash varchar(64) NOT NULL
    )`);
    // The chain order, and the keyset of GET /audit-events.
    await db.query(`CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq)`);
    // GET /audit-events?entityType=&entityId= within a visibility scope.
    await db.query(
      `CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, seq)`,
    );
    if (db.connection.options.type === 'postgres') {
      await db.query(`CREATE FUNCTION audit_events_immutable() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit events are immutable'; END $$`);
      await db.query(`CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE
        ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_immutable()`);
      // TRUNCATE skips row triggers.
      await db.query(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE
        ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable()`);
    } else {
      await db.query(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END`);
      await db.query(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END`);
    }

    await db.query(`CREATE TABLE audit_head (
      id integer PRIMARY KEY CHECK (id = 1),
      seq integer NOT NULL,
      hash varchar(64) NOT NULL
    )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_head`);
    await db.query(`DROP TABLE audit_events`);
    if (db.connection.options.type === 'postgres') {
      await db.query(`DROP FUNCTION audit_events_immutable()`);
    }
  }
}
