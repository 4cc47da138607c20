import type { EntityManager } from 'typeorm';
import type { Visibility } from './access.js';

/**
 * The next code of a record kind within a visibility scope: PA-001 for joint records,
 * PA-IN-001 for records India alone sees. Each scope counts on its own, so the joint codes
 * never show gaps that would betray the other side's records.
 */
export async function nextCode(
  em: EntityManager,
  kind: 'PA' | 'AI',
  visibility: Visibility,
): Promise<string> {
  const name = visibility === 'joint' ? kind : `${kind}-${visibility}`;
  const bumped = await em
    .createQueryBuilder()
    .update('code_sequences')
    .set({ last: () => 'last + 1' })
    .where('name = :name', { name })
    .execute();
  if (bumped.affected === 0) {
    await em
      .createQueryBuilder()
      .insert()
      .into('code_sequences')
      .values({ name, last: 1 })
      .execute();
  }
  const row: { last: number } | undefined = await em
    .createQueryBuilder()
    .select('last')
    .from('code_sequences', 's')
    .where('name = :name', { name })
    .getRawOne();
  return `${name}-${String(row!.last).padStart(3, '0')}`;
}
