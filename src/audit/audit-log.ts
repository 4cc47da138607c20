import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { canonicalJson } from '../common/canonical-json.js';
import { AuditEvent, AuditHead, type AuditVisibility } from './audit-event.entity.js';

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
 * Appends an event to the chain, inside the caller's transaction: it commits with the change
 * it records, or not at all. Appends are serialized by the unit of work.
 */
export async function recordEvent(em: EntityManager, entry: AuditEntry): Promise<void> {
  const head = await em.findOneBy(AuditHead, { id: 1 });
  const event: Omit<AuditEvent, 'hash'> = {
    id: randomUUID(),
    seq: (head?.seq ?? 0) + 1,
    at: new Date().toISOString(),
    actorId: entry.actorId,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    changes: JSON.stringify(entry.changes ?? {}),
    visibility: entry.visibility,
    prevHash: head?.hash ?? GENESIS_HASH,
  };
  const hash = hashEvent(event);
  await em.insert(AuditEvent, { ...event, hash });
  if (head) {
    await em.update(AuditHead, { id: 1 }, { seq: event.seq, hash });
  } else {
    await em.insert(AuditHead, { id: 1, seq: event.seq, hash });
  }
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
