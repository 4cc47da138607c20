import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { canonicalJson } from '../common/canonical-json.js';
import { nowIso } from '../common/clock.js';
import { isPostgres, sql } from '../database/sql.js';
import { beforeCommit } from '../database/unit-of-work.js';
import type { AuditEvent, AuditVisibility } from './audit-event.entity.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  actorId: string | null;
  /** `<entity>.<verb>`, e.g. action_item.created, policy_item.released, user.login_failed. */
  action: string;
  entityType: string;
  entityId: string | null;
  changes?: Record<string, unknown>;
  visibility: AuditVisibility;
}

/** The hash of an event: SHA-256 over the canonical JSON of everything but the hash. */
export function hashEvent(event: Omit<AuditEvent, 'hash'>): string {
  const { id, seq, at, actorId, action, entityType, entityId, changes, visibility, prevHash } =
    event;
  return createHash('sha256')
    .update(
      canonicalJson({
        id,
        seq,
        at,
        actorId,
        action,
        entityType,
        entityId,
        changes,
        visibility,
        prevHash,
      }),
    )
    .digest('hex');
}

/**
 * Records an event inside the caller's transaction: it commits with the change it records, or
 * not at all. In a unit of work the events are appended last, just before COMMIT, so the
 * chain's lock is the last lock a transaction takes and is held only for the append.
 */
export async function recordEvent(em: EntityManager, entry: AuditEntry): Promise<void> {
  let queue = pending.get(em);
  if (!queue) {
    queue = [];
    const events = queue;
    if (!beforeCommit(em, () => appendEvents(em, events))) {
      await appendEvents(em, [entry]);
      return;
    }
    pending.set(em, queue);
  }
  queue.push(entry);
}

const pending = new WeakMap<EntityManager, AuditEntry[]>();

const INSERT_EVENT = `INSERT INTO audit_events
  (id, seq, at, actor_id, action, entity_type, entity_id, changes, visibility, prev_hash, hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;
const MOVE_HEAD = `INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
  ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`;

/**
 * Appends events to the chain. On SQLite the unit of work serializes appends; on PostgreSQL
 * a transaction-scoped advisory lock does (per schema), across instances: each append reads
 * the head another transaction committed before it (READ COMMITTED sees it once the lock is
 * granted).
 */
async function appendEvents(em: EntityManager, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) {
    return;
  }
  if (isPostgres(em)) {
    await sql(em, `SELECT pg_advisory_xact_lock(hashtext('jwg:audit:' || current_schema()))`);
  }
  const { rows } = await sql<{ seq: number; hash: string }>(
    em,
    'SELECT seq, hash FROM audit_head WHERE id = 1',
  );
  let seq = rows[0]?.seq ?? 0;
  let prevHash = rows[0]?.hash ?? GENESIS_HASH;
  const at = nowIso();
  for (const entry of entries) {
    seq += 1;
    const event: Omit<AuditEvent, 'hash'> = {
      id: randomUUID(),
      seq,
      at,
      actorId: entry.actorId,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      changes: JSON.stringify(entry.changes ?? {}),
      visibility: entry.visibility,
      prevHash,
    };
    const hash = hashEvent(event);
    await sql(em, INSERT_EVENT, [
      event.id,
      seq,
      at,
      event.actorId,
      event.action,
      event.entityType,
      event.entityId,
      event.changes,
      event.visibility,
      prevHash,
      hash,
    ]);
    prevHash = hash;
  }
  await sql(em, MOVE_HEAD, [seq, prevHash]);
}

/**
 * The event of a change to a record, as visible as the record: `<type>.released` (joint) when
 * the change hands a delegation-only record to the other side, else `<type>.updated`.
 */
export function recordUpdate(
  em: EntityManager,
  actorId: string,
  entityType: string,
  entityId: string,
  visibility: { before: AuditVisibility; after: AuditVisibility },
  changes: Record<string, unknown>,
): Promise<void> {
  const released = visibility.before !== 'joint' && visibility.after === 'joint';
  return recordEvent(em, {
    actorId,
    action: `${entityType}.${released ? 'released' : 'updated'}`,
    entityType,
    entityId,
    changes,
    visibility: visibility.after,
  });
}

/** The event of a new record, as visible as the record. */
export function recordCreated(
  em: EntityManager,
  actor: { id: string },
  entityType: string,
  entityId: string,
  visibility: AuditVisibility,
  changes: Record<string, unknown>,
): Promise<void> {
  return recordEvent(em, {
    actorId: actor.id,
    action: `${entityType}.created`,
    entityType,
    entityId,
    changes,
    visibility,
  });
}
