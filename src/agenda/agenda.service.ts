import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { mayRefer } from '../action-items/action-item-refs.js';
import {
  assertMayUseVisibility,
  assertVisibilityChange,
  assertVisible,
  canSee,
  visibleScopes,
  type Visibility,
} from '../common/access.js';
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
import { type FieldError, ValidationProblem } from '../common/problem-details.filter.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import { findMeeting } from '../meetings/meetings.service.js';
import { PolicyItem } from '../policy-items/policy-item.entity.js';
import type { AgendaItemDto, CreateAgendaItemDto, UpdateAgendaItemDto } from './agenda-item.dto.js';
import { AgendaItem } from './agenda-item.entity.js';
import { recordCreated, recordUpdate } from '../audit/audit-log.js';

@Injectable()
export class AgendaService {
  constructor(private readonly uow: UnitOfWork) {}

  /** A meeting's agenda in order, without the items the caller's delegation cannot see. */
  async list(
    caller: AuthUser,
    meetingId: string,
    query: PageQueryDto,
  ): Promise<Page<AgendaItemDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.uow.read(async (em) => {
      await findMeeting(em, meetingId);
      const qb = em
        .createQueryBuilder(AgendaItem, 'a')
        .where('a.meeting_id = :meetingId', { meetingId })
        .andWhere('a.visibility IN (:...scopes)', { scopes: visibleScopes(caller) })
        .orderBy('a.position')
        .addOrderBy('a.id')
        .limit(limit + 1);
      if (query.cursor) {
        const [position, id] = decodeCursor(query.cursor, 2);
        qb.andWhere('(a.position > :position OR (a.position = :position AND a.id > :id))', {
          position,
          id,
        });
      }
      return qb.getMany();
    });
    return toPage(rows, limit, (a) => [a.position, a.id], present);
  }

  get(caller: AuthUser, id: string): Promise<AgendaItemDto> {
    return this.uow.read(async (em) => {
      const item = await em.findOneBy(AgendaItem, { id });
      assertVisible(caller, item, 'Agenda item');
      return present(item);
    });
  }

  create(caller: AuthUser, meetingId: string, dto: CreateAgendaItemDto): Promise<AgendaItemDto> {
    return this.uow.transaction(async (em) => {
      await findMeeting(em, meetingId);
      const visibility = dto.visibility ?? 'joint';
      await checkReferences(em, caller, {
        policyItemId: dto.policyItemId ?? null,
        leadDelegation: dto.leadDelegation ?? null,
        visibility,
      });
      assertMayUseVisibility(caller, visibility);
      const { last } = (await em
        .createQueryBuilder(AgendaItem, 'a')
        .select('MAX(a.position)', 'last')
        .where('a.meeting_id = :meetingId', { meetingId })
        // Counted over what the caller sees: the other side's items leave no gap to notice.
        .andWhere('a.visibility IN (:...scopes)', { scopes: visibleScopes(caller) })
        .getRawOne<{ last: number | null }>())!;
      const now = nowIso();
      const item: AgendaItem = {
        id: randomUUID(),
        meetingId,
        position: dto.position ?? (last ?? 0) + 1,
        title: dto.title,
        description: dto.description ?? '',
        leadDelegation: dto.leadDelegation ?? null,
        policyItemId: dto.policyItemId ?? null,
        status: 'pending',
        outcome: null,
        carriedFromId: null,
        visibility,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await em.insert(AgendaItem, item);
      await recordCreated(em, caller, 'agenda_item', item.id, item.visibility, {
        ...dto,
        meetingId,
        position: item.position,
      });
      return present(item);
    });
  }

  update(
    caller: AuthUser,
    id: string,
    dto: UpdateAgendaItemDto,
    ifMatch: number[] | undefined,
  ): Promise<AgendaItemDto> {
    return this.uow.transaction(async (em) => {
      const item = await em.findOneBy(AgendaItem, { id });
      assertVisible(caller, item, 'Agenda item');
      const visibility = dto.visibility ?? item.visibility;
      await checkReferences(em, caller, {
        policyItemId: dto.policyItemId === undefined ? item.policyItemId : dto.policyItemId,
        leadDelegation: dto.leadDelegation === undefined ? item.leadDelegation : dto.leadDelegation,
        visibility,
      });
      assertVisibilityChange(caller, item.visibility, visibility);
      assertIfMatch(ifMatch, item.version);
      const stamp = await updateVersioned(em, AgendaItem, item.id, item.version, dto);
      await recordUpdate(
        em,
        caller.id,
        'agenda_item',
        item.id,
        { before: item.visibility, after: visibility },
        {
          ...dto,
          version: stamp.version,
        },
      );
      return present({ ...item, ...dto, ...stamp });
    });
  }
}

/**
 * What the item points at, all reported at once (400): the policy item exists and the caller
 * sees it, a joint agenda item refers to a joint one, and the lead of a delegation-only item
 * is that delegation (SPEC 4).
 */
async function checkReferences(
  em: EntityManager,
  caller: AuthUser,
  refs: {
    policyItemId: string | null;
    leadDelegation: DelegationCode | null;
    visibility: Visibility;
  },
): Promise<void> {
  const errors: FieldError[] = [];
  if (refs.policyItemId !== null) {
    const policyItem = await em.findOneBy(PolicyItem, { id: refs.policyItemId });
    if (!policyItem || !canSee(caller, policyItem.visibility)) {
      errors.push({ field: 'policyItemId', message: 'names no policy item you can see' });
    } else if (!mayRefer(refs.visibility, policyItem.visibility)) {
      errors.push({
        field: 'policyItemId',
        message: 'a joint agenda item cannot refer to a delegation-only policy item',
      });
    }
  }
  if (
    refs.visibility !== 'joint' &&
    refs.leadDelegation !== null &&
    refs.leadDelegation !== refs.visibility
  ) {
    errors.push({
      field: 'leadDelegation',
      message: `the lead of an item visible to ${refs.visibility} only must be ${refs.visibility}`,
    });
  }
  if (errors.length > 0) {
    throw new ValidationProblem(errors);
  }
}

function present(item: AgendaItem): AgendaItemDto {
  const {
    id,
    meetingId,
    position,
    title,
    description,
    leadDelegation,
    policyItemId,
    status,
    outcome,
  } = item;
  const { carriedFromId, visibility, version, createdAt, updatedAt } = item;
  return {
    id,
    meetingId,
    position,
    title,
    description,
    leadDelegation,
    policyItemId,
    status,
    outcome,
    carriedFromId,
    visibility,
    version,
    createdAt,
    updatedAt,
  };
}
