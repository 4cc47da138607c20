import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { assertCan, can } from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import { assertIfMatch } from '../common/if-match.js';
import {
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  type Page,
  type PageQueryDto,
  toPage,
} from '../common/pagination.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import type { ActionItemUpdateDto, CreateActionItemUpdateDto } from './action-item.dto.js';
import { ActionItem, ActionItemUpdate } from './action-item.entity.js';
import { applyTransition, completedAtAfter, findVisible } from './action-items.service.js';
import { recordEvent } from '../audit/audit-log.js';

/** Progress history: who said what about an item, and which status it moved to. */
@Injectable()
export class ActionItemUpdatesService {
  constructor(private readonly uow: UnitOfWork) {}

  async list(
    caller: AuthUser,
    actionItemId: string,
    query: PageQueryDto,
  ): Promise<Page<ActionItemUpdateDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.uow.read(async (em) => {
      await findVisible(em, caller, actionItemId);
      const qb = em
        .createQueryBuilder(ActionItemUpdate, 'u')
        .where('u.action_item_id = :actionItemId', { actionItemId })
        .orderBy('u.created_at', 'DESC')
        .addOrderBy('u.id', 'DESC')
        .limit(limit + 1);
      if (query.cursor) {
        const [at, id] = decodeCursor(query.cursor, 2);
        qb.andWhere('(u.created_at < :at OR (u.created_at = :at AND u.id < :id))', { at, id });
      }
      return qb.getMany();
    });
    return toPage(rows, limit, (u) => [u.createdAt, u.id], present);
  }

  /** Posts an update; with a status, moves the item under the same rules as PATCH. */
  create(
    caller: AuthUser,
    actionItemId: string,
    dto: CreateActionItemUpdateDto,
    ifMatch: number[] | undefined,
  ): Promise<ActionItemUpdateDto> {
    return this.uow.transaction(async (em) => {
      const item = await findVisible(em, caller, actionItemId);
      assertCan(caller, { action: 'progressActionItem', item });
      if (dto.status !== undefined && dto.status !== item.status) {
        applyTransition(item.status, dto.status, can(caller, { action: 'manageActionItem' }));
        assertIfMatch(ifMatch, item.version);
        await updateVersioned(em, ActionItem, item.id, item.version, {
          status: dto.status,
          completedAt: completedAtAfter(item, dto.status),
        });
      }
      const update: ActionItemUpdate = {
        id: randomUUID(),
        actionItemId: item.id,
        authorId: caller.id,
        note: dto.note,
        status: dto.status ?? null,
        createdAt: nowIso(),
      };
      await em.insert(ActionItemUpdate, update);
      await recordEvent(em, {
        actorId: caller.id,
        action: 'action_item.progress_posted',
        entityType: 'action_item',
        entityId: item.id,
        changes: { updateId: update.id, note: update.note, status: update.status },
        visibility: item.visibility,
      });
      return present(update);
    });
  }
}

function present(update: ActionItemUpdate): ActionItemUpdateDto {
  const { id, actionItemId, authorId, note, status, createdAt } = update;
  return { id, actionItemId, authorId, note, status, createdAt };
}
