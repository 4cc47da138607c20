import { PreconditionFailedException } from '@nestjs/common';
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { nowIso } from '../common/clock.js';

/**
 * The row moved on between the read and the write: another transaction committed a change in
 * between (only possible on PostgreSQL, where transactions run side by side). The unit of
 * work runs the unit again on fresh rows: a request with If-Match then gets 412 from its
 * If-Match check, one without is applied on top of the other change. Left over, it is a 412.
 */
export class StaleVersionError extends PreconditionFailedException {
  constructor() {
    super('The record has changed: If-Match does not match');
  }
}

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
    throw new StaleVersionError();
  }
  return { version: version + 1, updatedAt };
}
