import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import { containsPattern } from '../common/validation.js';
import { visibleScopes } from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { todayIn } from '../common/dates.js';
import { decodeCursor } from '../common/pagination.js';
import { User } from '../users/user.entity.js';
import type { ActionItemFiltersDto, ActionItemSort } from './action-item.dto.js';
import { ActionItem } from './action-item.entity.js';

/** An action item row with its owner's timezone, which decides `overdue`. */
export type ActionItemRow = ActionItem & { ownerTimezone: string };

const SORT_COLUMNS: Record<
  ActionItemSort,
  { column: string; key: keyof ActionItem; desc: boolean }
> = {
  dueDate: { column: 'ai.due_date', key: 'dueDate', desc: false },
  '-dueDate': { column: 'ai.due_date', key: 'dueDate', desc: true },
  updatedAt: { column: 'ai.updated_at', key: 'updatedAt', desc: false },
  '-updatedAt': { column: 'ai.updated_at', key: 'updatedAt', desc: true },
};

export function sortKey(row: ActionItem, sort: ActionItemSort): [string, string] {
  return [row[SORT_COLUMNS[sort].key] as string, row.id];
}

/**
 * The one query behind GET /action-items, /me/action-items and the CSV export: the caller's
 * visibility scope first, then the filters, ordered by the sort key and id (keyset pages:
 * inserts and updates elsewhere never make a page skip or repeat a row).
 */
export async function actionItemsQuery(
  em: EntityManager,
  caller: AuthUser,
  filters: ActionItemFiltersDto,
  page: { limit: number; cursor?: string },
  now: Date = new Date(),
): Promise<ActionItemRow[]> {
  const sort = filters.sort ?? 'dueDate';
  const { column, desc } = SORT_COLUMNS[sort];
  const qb = em
    .createQueryBuilder(ActionItem, 'ai')
    .innerJoin(User, 'owner', 'owner.id = ai.owner_id')
    .addSelect('owner.timezone', 'ownerTimezone')
    .where('ai.visibility IN (:...scopes)', { scopes: visibleScopes(caller) });

  if (filters.status) {
    qb.andWhere('ai.status IN (:...statuses)', { statuses: filters.status.split(',') });
  }
  if (filters.owner) {
    qb.andWhere('ai.owner_id = :owner', {
      owner: filters.owner === 'me' ? caller.id : filters.owner,
    });
  }
  if (filters.delegation) {
    qb.andWhere('ai.owner_delegation = :delegation', { delegation: filters.delegation });
  }
  if (filters.meetingId) {
    qb.andWhere('ai.meeting_id = :meetingId', { meetingId: filters.meetingId });
  }
  if (filters.policyItemId) {
    qb.andWhere('ai.policy_item_id = :policyItemId', { policyItemId: filters.policyItemId });
  }
  if (filters.dueBefore) {
    qb.andWhere('ai.due_date < :dueBefore', { dueBefore: filters.dueBefore });
  }
  if (filters.dueAfter) {
    qb.andWhere('ai.due_date > :dueAfter', { dueAfter: filters.dueAfter });
  }
  if (filters.q) {
    const pattern = containsPattern(filters.q);
    qb.andWhere("(ai.title LIKE :q ESCAPE '\\' OR ai.description LIKE :q ESCAPE '\\')", {
      q: pattern,
    });
  }
  if (filters.overdue) {
    await whereOverdue(em, qb, filters.overdue === 'true', now);
  }
  if (page.cursor) {
    const [value, id] = decodeCursor(page.cursor, 2);
    qb.andWhere(
      `(${column} ${desc ? '<' : '>'} :cv OR (${column} = :cv AND ai.id ${desc ? '<' : '>'} :cid))`,
      {
        cv: value,
        cid: id,
      },
    );
  }
  const { entities, raw } = await qb
    .orderBy(column, desc ? 'DESC' : 'ASC')
    .addOrderBy('ai.id', desc ? 'DESC' : 'ASC')
    .limit(page.limit + 1)
    .getRawAndEntities<{ ai_id: string; ownerTimezone: string }>();
  const zones = new Map(raw.map((row) => [row.ai_id, row.ownerTimezone]));
  return entities.map((item) => Object.assign(item, { ownerTimezone: zones.get(item.id)! }));
}

/**
 * overdue=true: not closed and due before today in the owner's timezone. Today differs by
 * timezone, so the condition compares with a per-timezone date (few distinct zones).
 */
async function whereOverdue(
  em: EntityManager,
  qb: SelectQueryBuilder<ActionItem>,
  overdue: boolean,
  now: Date,
): Promise<void> {
  const zones: { timezone: string }[] = await em
    .createQueryBuilder(User, 'u')
    .select('DISTINCT u.timezone', 'timezone')
    .getRawMany();
  const cases = zones.map((z, i) => `WHEN :tz${i} THEN :today${i}`).join(' ');
  const params = Object.fromEntries(
    zones.flatMap((z, i) => [
      [`tz${i}`, z.timezone],
      [`today${i}`, todayIn(z.timezone, now)],
    ]),
  );
  const isOverdue = `(ai.status NOT IN ('done', 'cancelled') AND ai.due_date < CASE owner.timezone ${cases} END)`;
  qb.andWhere(overdue ? isOverdue : `NOT ${isOverdue}`, params);
}
