import { PreconditionFailedException } from '@nestjs/common';
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { nowIso } from '../common/clock.js';

/**
 * Writes `changes` only if the row is still at `version`, bumping it, in one conditional
 * UPDATE (`WHERE id = ? AND version = ?`). No row changed means another writer got there
 * first: 412. TypeORM's save() with @VersionColumn checks nothing of the kind.
 */
export async function updateVersioned<T extends ObjectLiteral>(
  em: EntityManager,
  entity: EntityTarget<T>,
  id: string,
  version: number,
  changes: Partial<T>,
): Promise<{ version: number; updatedAt: string }> {
  const updatedAt = nowIso();
  const result = await em
    .createQueryBuilder()
    .update(entity)
    .set({ ...changes, version: version + 1, updatedAt })
    .where('id = :id AND version = :version', { id, version })
    .execute();
  if (result.affected !== 1) {
    throw new PreconditionFailedException('The record has changed: If-Match does not match');
  }
  return { version: version + 1, updatedAt };
}
