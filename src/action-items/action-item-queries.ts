import { BadRequestException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuthUser } from '../common/auth-user.js';
import { todayIn } from '../common/dates.js';
import { decodeCursor } from '../common/pagination.js';
import { containsPattern } from '../common/validation.js';
import { sql, type SqlValue } from '../database/sql.js';
import type { ActionItemFiltersDto, ActionItemSort } from './action-item.dto.js';
import type { ActionItem } from './action-item.entity.js';
import { ACTION_ITEM_STATUSES } from './action-item-status.js';

/** An action item row with its owner's timezone, which decides `overdue`. */
export type ActionItemRow = ActionItem & { ownerTimezone: string };

/**
 * The columns under the names of the DTO's fields, so a row is presented without renaming.
 * Aliases are quoted: PostgreSQL folds unquoted identifiers to lower case.
 */
const COLUMNS = `ai.id AS "id", ai.code AS "code", ai.title AS "title",
  ai.description AS "description", ai.status AS "status", ai.owner_id AS "ownerId",
  ai.owner_delegation AS "ownerDelegation", ai.due_date AS "dueDate",
  ai.meeting_id AS "meetingId", ai.agenda_item_id AS "agendaItemId",
  ai.policy_item_id AS "policyItemId", ai.visibility AS "visibility",
  ai.completed_at AS "completedAt", ai.version AS "version", ai.created_at AS "createdAt",
  ai.updated_at AS "updatedAt", owner.timezone AS "ownerTimezone"`;

const FROM = `FROM action_items ai INNER JOIN users owner ON owner.id = ai.owner_id`;

/** The visibility scope (visibleScopes): joint, and the caller's delegation if any. */
const IN_SCOPE = `ai.visibility IN ('joint', $1)`;

const BY_ID = `SELECT ${COLUMNS} ${FROM} WHERE ai.id = $2 AND ${IN_SCOPE}`;

const SORT_COLUMNS: Record<
  ActionItemSort,
  { column: string; key: 'dueDate' | 'updatedAt'; desc: boolean }
> = {
  dueDate: { column: 'ai.due_date', key: 'dueDate', desc: false },
  '-dueDate': { column: 'ai.due_date', key: 'dueDate', desc: true },
  updatedAt: { column: 'ai.updated_at', key: 'updatedAt', desc: false },
  '-updatedAt': { column: 'ai.updated_at', key: 'updatedAt', desc: true },
};

/** Status lists take this many placeholders, the list's first value repeated: one text. */
const STATUS_SLOTS = ACTION_ITEM_STATUSES.length;

export function sortKey(row: ActionItem, sort: ActionItemSort): [string, string] {
  return [row[SORT_COLUMNS[sort].key], row.id];
}

/**
 * The caller's delegation for the scope placeholder; admin (no delegation) sees joint only.
 */
function scopeOf(caller: Pick<AuthUser, 'delegation'>): string {
  return caller.delegation ?? 'joint';
}

/** One item by id if the caller may see it, else null (invisible and missing look alike). */
export async function visibleActionItem(
  em: EntityManager,
  caller: AuthUser,
  id: string,
): Promise<ActionItemRow | null> {
  const { rows } = await sql<ActionItemRow>(em, BY_ID, [scopeOf(caller), id]);
  return rows[0] ?? null;
}

/**
 * The one query behind GET /action-items, /me/action-items and the CSV export: the caller's
 * visibility scope first, then the filters, ordered by the sort key and id (keyset pages:
 * inserts and updates elsewhere never make a page skip or repeat a row). The statement's text
 * depends only on which filters are present, never on their values, so each combination is
 * prepared once.
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
  const params: SqlValue[] = [scopeOf(caller)];
  const where = [IN_SCOPE];
  const add = (clause: (...slots: string[]) => string, ...values: SqlValue[]) => {
    const slots = values.map((value) => `$${params.push(value)}`);
    where.push(clause(...slots));
  };

  if (filters.status) {
    // At most the five statuses once each (the validator lets repeats through).
    const statuses = [...new Set(filters.status.split(','))];
    const padded = Array.from({ length: STATUS_SLOTS }, (_, i) => statuses[i] ?? statuses[0]);
    add((...slots) => `ai.status IN (${slots.join(', ')})`, ...padded);
  }
  if (filters.owner) {
    add((slot) => `ai.owner_id = ${slot}`, filters.owner === 'me' ? caller.id : filters.owner);
  }
  if (filters.delegation) {
    add((slot) => `ai.owner_delegation = ${slot}`, filters.delegation);
  }
  if (filters.meetingId) {
    add((slot) => `ai.meeting_id = ${slot}`, filters.meetingId);
  }
  if (filters.policyItemId) {
    add((slot) => `ai.policy_item_id = ${slot}`, filters.policyItemId);
  }
  if (filters.dueBefore) {
    add((slot) => `ai.due_date < ${slot}`, filters.dueBefore);
  }
  if (filters.dueAfter) {
    add((slot) => `ai.due_date > ${slot}`, filters.dueAfter);
  }
  if (filters.q) {
    // Case-insensitive on both databases (PostgreSQL's LIKE is case-sensitive).
    add(
      (slot) =>
        `(LOWER(ai.title) LIKE LOWER(${slot}) ESCAPE '\\'` +
        ` OR LOWER(ai.description) LIKE LOWER(${slot}) ESCAPE '\\')`,
      containsPattern(filters.q),
    );
  }
  if (filters.overdue) {
    const zones = await ownerTimezones(em);
    const cases = zones.map((zone) => [zone, todayIn(zone, now)]);
    add(
      (...slots) => {
        const whens = cases.map((_, i) => `WHEN ${slots[2 * i]} THEN ${slots[2 * i + 1]}`);
        const overdue =
          `(ai.status NOT IN ('done', 'cancelled')` +
          ` AND ai.due_date < CASE owner.timezone ${whens.join(' ')} END)`;
        return filters.overdue === 'true' ? overdue : `NOT ${overdue}`;
      },
      ...cases.flat(),
    );
  }
  if (page.cursor) {
    const [value, id] = decodeCursor(page.cursor, 2);
    if (typeof value !== 'string' || typeof id !== 'string') {
      throw new BadRequestException('cursor is not valid');
    }
    const after = desc ? '<' : '>';
    add(
      (cv, cid) => `(${column} ${after} ${cv} OR (${column} = ${cv} AND ai.id ${after} ${cid}))`,
      value,
      id,
    );
  }
  const direction = desc ? 'DESC' : 'ASC';
  const limit = `$${params.push(page.limit + 1)}`;
  const { rows } = await sql<ActionItemRow>(
    em,
    `SELECT ${COLUMNS} ${FROM} WHERE ${where.join(' AND ')}
     ORDER BY ${column} ${direction}, ai.id ${direction} LIMIT ${limit}`,
    params,
  );
  return rows;
}

/**
 * The owners' timezones: overdue=true means not closed and due before today in the owner's
 * timezone, and today differs by timezone (few distinct zones).
 */
async function ownerTimezones(em: EntityManager): Promise<string[]> {
  const { rows } = await sql<{ timezone: string }>(
    em,
    `SELECT DISTINCT timezone AS "timezone" FROM users`,
  );
  return rows.map((row) => row.timezone);
}
