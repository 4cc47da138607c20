import { ConflictException, ForbiddenException, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  assertCan,
  assertMayUseVisibility,
  assertVisibilityChange,
  assertVisible,
  can,
  type Visibility,
} from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import { nextCode, nextCodes } from '../common/codes.js';
import { todayIn } from '../common/dates.js';
import { assertIfMatch } from '../common/if-match.js';
import { DEFAULT_PAGE_SIZE, type Page, type PageQueryDto, toPage } from '../common/pagination.js';
import { insertRows } from '../database/bulk-insert.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import {
  actionItemsQuery,
  type ActionItemRow,
  sortKey,
  visibleActionItem,
} from './action-item-queries.js';
import { actionItemTransition, type ActionItemStatus, isClosed } from './action-item-status.js';
import type {
  ActionItemDto,
  ActionItemFiltersDto,
  CreateActionItemDto,
  ListActionItemsQueryDto,
  UpdateActionItemDto,
} from './action-item.dto.js';
import { ActionItem } from './action-item.entity.js';
import { type ActionItemRefLookup, resolveActionItemRefs } from './action-item-refs.js';
import { recordCreated, recordUpdate } from '../audit/audit-log.js';

const OPEN_STATUSES = 'open,in_progress,blocked';

@Injectable()
export class ActionItemsService {
  constructor(private readonly uow: UnitOfWork) {}

  async list(caller: AuthUser, query: ListActionItemsQueryDto): Promise<Page<ActionItemDto>> {
    const { limit = DEFAULT_PAGE_SIZE, cursor, ...filters } = query;
    // One instant for the overdue filter and the `overdue` field, so they agree at midnight.
    const now = new Date();
    const rows = await this.uow.read((em) =>
      actionItemsQuery(em, caller, filters, { limit, cursor }, now),
    );
    const sort = filters.sort ?? 'dueDate';
    const today = todayByZone(now);
    return toPage(
      rows,
      limit,
      (row) => sortKey(row, sort),
      (row) => presentRow(row, today),
    );
  }

  /** The caller's items that are not closed, by due date. */
  listMine(caller: AuthUser, page: PageQueryDto): Promise<Page<ActionItemDto>> {
    return this.list(caller, { ...page, owner: 'me', status: OPEN_STATUSES });
  }

  /** Every matching row, in batches, for the CSV export. */
  async *export(caller: AuthUser, filters: ActionItemFiltersDto): AsyncGenerator<ActionItemDto[]> {
    const sort = filters.sort ?? 'dueDate';
    let cursor: string | undefined;
    for (;;) {
      const now = new Date();
      const rows = await this.uow.read((em) =>
        actionItemsQuery(em, caller, filters, { limit: 1000, cursor }, now),
      );
      const today = todayByZone(now);
      const page = toPage(
        rows,
        1000,
        (row) => sortKey(row, sort),
        (row) => presentRow(row, today),
      );
      yield page.data;
      if (!page.nextCursor) {
        return;
      }
      cursor = page.nextCursor;
    }
  }

  async get(caller: AuthUser, id: string): Promise<ActionItemDto> {
    return this.uow.read(async (em) => presentRow(await findVisible(em, caller, id)));
  }

  create(caller: AuthUser, dto: CreateActionItemDto): Promise<ActionItemDto> {
    return this.uow.transaction(async (em) => {
      const [row] = await insertActionItems(em, caller, [
        await checkNewActionItem(em, caller, dto),
      ]);
      return presentRow(row);
    });
  }

  update(
    caller: AuthUser,
    id: string,
    dto: UpdateActionItemDto,
    ifMatch: number[] | undefined,
  ): Promise<ActionItemDto> {
    return this.uow.transaction(async (em) => {
      const item = await findVisible(em, caller, id);
      const manager = can(caller, { action: 'manageActionItem' });
      if (!manager) {
        assertCan(caller, { action: 'progressActionItem', item });
        const fields = Object.keys(dto).filter((field) => field !== 'status');
        if (fields.length > 0) {
          throw new ForbiddenException(
            `Only dsa and secretariat change ${fields.join(', ')}: owners move the status`,
          );
        }
      }
      const visibility = dto.visibility ?? item.visibility;
      // Moving into the other delegation's view is 403 whoever the owner is.
      assertVisibilityChange(caller, item.visibility, visibility);
      const { ownerTimezone, ...refs } = await resolveActionItemRefs(
        em,
        caller,
        { ...item, ...dto, visibility, currentOwnerId: item.ownerId },
        '',
      );
      const status = dto.status ?? item.status;
      applyTransition(item.status, status, manager);
      if (isClosed(item.status) && !isReopening(item.status, status) && changesFields(item, dto)) {
        throw new ConflictException('A closed item is locked: reopen it first');
      }
      assertIfMatch(ifMatch, item.version);
      const changes: Partial<ActionItem> = {
        ...dto,
        ...refs,
        visibility,
        status,
        completedAt: completedAtAfter(item, status),
        // Released to joint: the item takes the next joint code (see nextCode).
        ...(visibility !== item.visibility ? { code: await nextCode(em, 'AI', visibility) } : {}),
      };
      const stamp = await updateVersioned(em, ActionItem, item.id, item.version, changes);
      await recordUpdate(
        em,
        caller.id,
        'action_item',
        item.id,
        { before: item.visibility, after: visibility },
        {
          ...dto,
          status,
          ...(changes.code ? { code: changes.code } : {}),
          version: stamp.version,
        },
      );
      return presentRow({ ...item, ...changes, ...stamp, ownerTimezone });
    });
  }
}

/** Loads an item the caller may see, or 404. */
export async function findVisible(
  em: EntityManager,
  caller: AuthUser,
  id: string,
): Promise<ActionItemRow> {
  const row = await visibleActionItem(em, caller, id);
  // The statement is scoped already; the check stays as the one rule's home.
  assertVisible(caller, row, 'Action item');
  return row;
}

/** A new action item that passed its checks, waiting to be inserted with its code. */
export interface CheckedActionItem {
  dto: CreateActionItemDto;
  visibility: Visibility;
  refs: { ownerDelegation: DelegationCode; ownerTimezone: string; meetingId: string | null };
}

/**
 * Checks a new action item: shared by POST /action-items and meeting outcomes, which report
 * errors under their own field prefix (`actionItems[2].ownerId`) and share one `lookup`.
 */
export async function checkNewActionItem(
  em: EntityManager,
  caller: AuthUser,
  dto: CreateActionItemDto,
  fieldPrefix = '',
  lookup?: ActionItemRefLookup,
): Promise<CheckedActionItem> {
  const visibility: Visibility = dto.visibility ?? 'joint';
  // Placing an item in the other delegation's view is 403 whoever the owner is.
  assertMayUseVisibility(caller, visibility);
  const refs = await resolveActionItemRefs(em, caller, { ...dto, visibility }, fieldPrefix, lookup);
  return { dto, visibility, refs };
}

/**
 * Inserts checked action items. Their codes are taken here, together (see nextCodes): call it
 * as late in the unit as possible, since a code's counter stays locked until commit.
 */
export async function insertActionItems(
  em: EntityManager,
  caller: AuthUser,
  checked: readonly CheckedActionItem[],
): Promise<ActionItemRow[]> {
  if (checked.length === 0) {
    return [];
  }
  const codes = await nextCodes(
    em,
    'AI',
    checked.map((c) => c.visibility),
  );
  const now = nowIso();
  const items: ActionItem[] = checked.map(({ dto, visibility, refs }, i) => ({
    id: randomUUID(),
    code: codes[i],
    title: dto.title,
    description: dto.description ?? '',
    status: 'open',
    ownerId: dto.ownerId,
    ownerDelegation: refs.ownerDelegation,
    dueDate: dto.dueDate,
    meetingId: refs.meetingId,
    agendaItemId: dto.agendaItemId ?? null,
    policyItemId: dto.policyItemId ?? null,
    visibility,
    completedAt: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  }));
  await insertRows(
    em,
    'action_items',
    ACTION_ITEM_COLUMNS,
    items.map((item) => [
      item.id,
      item.code,
      item.title,
      item.description,
      item.status,
      item.ownerId,
      item.ownerDelegation,
      item.dueDate,
      item.meetingId,
      item.agendaItemId,
      item.policyItemId,
      item.visibility,
      item.completedAt,
      item.version,
      item.createdAt,
      item.updatedAt,
    ]),
  );
  for (const item of items) {
    await recordCreated(em, caller, 'action_item', item.id, item.visibility, {
      code: item.code,
      title: item.title,
      ownerId: item.ownerId,
      dueDate: item.dueDate,
      meetingId: item.meetingId,
      agendaItemId: item.agendaItemId,
      policyItemId: item.policyItemId,
    });
  }
  return items.map((item, i) => ({ ...item, ownerTimezone: checked[i].refs.ownerTimezone }));
}

/** Every column of action_items, in the order insertActionItems gives the values. */
export const ACTION_ITEM_COLUMNS = [
  'id',
  'code',
  'title',
  'description',
  'status',
  'owner_id',
  'owner_delegation',
  'due_date',
  'meeting_id',
  'agenda_item_id',
  'policy_item_id',
  'visibility',
  'completed_at',
  'version',
  'created_at',
  'updated_at',
];

/** Moves the status or throws: 403 for a move only managers make, 409 out of a closed state. */
export function applyTransition(
  from: ActionItemStatus,
  to: ActionItemStatus,
  manager: boolean,
): void {
  switch (actionItemTransition(from, to, manager ? 'manager' : 'owner')) {
    case 'allowed':
      return;
    case 'forbidden':
      throw new ForbiddenException(
        to === 'cancelled'
          ? 'Only dsa and secretariat cancel an item'
          : 'Only dsa and secretariat reopen an item',
      );
    case 'conflict':
      throw new ConflictException(`A ${from} item cannot move to ${to}; reopen it first`);
  }
}

export function completedAtAfter(item: ActionItem, status: ActionItemStatus): string | null {
  if (status === 'done') {
    return item.status === 'done' ? item.completedAt : nowIso();
  }
  return isClosed(status) ? item.completedAt : null;
}

function isReopening(from: ActionItemStatus, to: ActionItemStatus): boolean {
  return isClosed(from) && to === 'open';
}

function changesFields(item: ActionItem, dto: UpdateActionItemDto): boolean {
  return Object.entries(dto).some(
    ([field, value]) => field !== 'status' && item[field as keyof ActionItem] !== value,
  );
}

/**
 * Today's date in each owner timezone for one response: every row of a page says `overdue`
 * against the same instant, and each zone is formatted once.
 */
export function todayByZone(now: Date = new Date()): (timezone: string) => string {
  const days = new Map<string, string>();
  return (timezone) => {
    let day = days.get(timezone);
    if (day === undefined) {
      day = todayIn(timezone, now);
      days.set(timezone, day);
    }
    return day;
  };
}

export function presentRow(
  row: ActionItemRow,
  today: (timezone: string) => string = todayByZone(),
): ActionItemDto {
  return {
    id: row.id,
    code: row.code,
    title: row.title,
    description: row.description,
    status: row.status,
    ownerId: row.ownerId,
    ownerDelegation: row.ownerDelegation,
    dueDate: row.dueDate,
    meetingId: row.meetingId,
    agendaItemId: row.agendaItemId,
    policyItemId: row.policyItemId,
    visibility: row.visibility,
    completedAt: row.completedAt,
    overdue: !isClosed(row.status) && row.dueDate < today(row.ownerTimezone),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
