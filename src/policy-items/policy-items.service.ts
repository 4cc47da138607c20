import { ConflictException, Injectable } from '@nestjs/common';
import { containsPattern } from '../common/validation.js';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  assertCan,
  assertMayUseVisibility,
  assertVisibilityChange,
  assertVisible,
  visibleScopes,
  type Visibility,
} from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import { nextCode } from '../common/codes.js';
import { assertIfMatch } from '../common/if-match.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../common/pagination.js';
import { type FieldError, ValidationProblem } from '../common/problem-details.filter.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import { DELEGATIONS, type DelegationCode } from '../delegations/delegation.entity.js';
import { User } from '../users/user.entity.js';
import {
  canConcur,
  canMovePolicyItem,
  isTextLocked,
  statusAfterConcurrence,
} from './policy-item-status.js';
import type {
  ConcurDto,
  CreatePolicyItemDto,
  LeadsDto,
  ListPolicyItemsQueryDto,
  PolicyItemDto,
  UpdatePolicyItemDto,
} from './policy-item.dto.js';
import { PolicyItem } from './policy-item.entity.js';
import { recordCreated, recordEvent, recordUpdate } from '../audit/audit-log.js';

@Injectable()
export class PolicyItemsService {
  constructor(private readonly uow: UnitOfWork) {}

  async list(caller: AuthUser, query: ListPolicyItemsQueryDto): Promise<Page<PolicyItemDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.uow.read((em) => {
      const qb = em
        .createQueryBuilder(PolicyItem, 'p')
        .where('p.visibility IN (:...scopes)', { scopes: visibleScopes(caller) })
        .orderBy('p.created_at')
        .addOrderBy('p.id')
        .limit(limit + 1);
      if (query.status) {
        qb.andWhere('p.status IN (:...statuses)', { statuses: query.status.split(',') });
      }
      if (query.q) {
        // Case-insensitive on both databases (PostgreSQL's LIKE is case-sensitive).
        const q = containsPattern(query.q).toLowerCase();
        qb.andWhere(
          "(LOWER(p.title) LIKE :q ESCAPE '\\' OR LOWER(p.description) LIKE :q ESCAPE '\\')",
          { q },
        );
      }
      if (query.cursor) {
        const [at, id] = decodeCursor(query.cursor, 2);
        qb.andWhere('(p.created_at > :at OR (p.created_at = :at AND p.id > :id))', { at, id });
      }
      return qb.getMany();
    });
    return toPage(rows, limit, (p) => [p.createdAt, p.id], present);
  }

  get(caller: AuthUser, id: string): Promise<PolicyItemDto> {
    return this.uow.read(async (em) => present(await findVisiblePolicyItem(em, caller, id)));
  }

  create(caller: AuthUser, dto: CreatePolicyItemDto): Promise<PolicyItemDto> {
    return this.uow.transaction(async (em) => {
      const visibility = dto.visibility ?? 'joint';
      // Placing an item in the other delegation's view is 403 whoever the leads are.
      assertMayUseVisibility(caller, visibility);
      const leads = await resolveLeads(em, NO_LEADS, dto.leads ?? {}, visibility);
      const now = nowIso();
      const item: PolicyItem = {
        id: randomUUID(),
        code: await nextCode(em, 'PA', visibility),
        title: dto.title,
        description: dto.description ?? '',
        isaReference: dto.isaReference ?? null,
        status: 'proposed',
        leadIn: leads.IN,
        leadUs: leads.US,
        targetDate: dto.targetDate ?? null,
        concurInUserId: null,
        concurInAt: null,
        concurUsUserId: null,
        concurUsAt: null,
        visibility,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await em.insert(PolicyItem, item);
      await recordCreated(em, caller, 'policy_item', item.id, item.visibility, {
        ...present(item),
      });
      return present(item);
    });
  }

  update(
    caller: AuthUser,
    id: string,
    dto: UpdatePolicyItemDto,
    ifMatch: number[] | undefined,
  ): Promise<PolicyItemDto> {
    return this.uow.transaction(async (em) => {
      const item = await findVisiblePolicyItem(em, caller, id);
      const visibility = dto.visibility ?? item.visibility;
      // An illegal move (403, 409) is reported as such, whoever the leads are.
      assertVisibilityChange(caller, item.visibility, visibility);
      const leads = await resolveLeads(
        em,
        { IN: item.leadIn, US: item.leadUs },
        dto.leads ?? {},
        visibility,
      );
      const textChanged =
        (dto.title !== undefined && dto.title !== item.title) ||
        (dto.description !== undefined && dto.description !== item.description);
      if (textChanged && isTextLocked(item.status)) {
        throw new ConflictException(`The text of an ${item.status} item is locked`);
      }
      const status = dto.status ?? item.status;
      if (!canMovePolicyItem(item.status, status)) {
        throw new ConflictException(
          status === 'aligned'
            ? 'aligned follows from both DSAs concurring; it is never set by hand'
            : `A ${item.status} item cannot move to ${status}`,
        );
      }
      assertIfMatch(ifMatch, item.version);
      const { leads: _leads, ...fields } = dto;
      const changes: Partial<PolicyItem> = {
        ...fields,
        leadIn: leads.IN,
        leadUs: leads.US,
        status,
        visibility,
        ...(textChanged ? NO_CONCURRENCE : {}),
        // Released to joint: the item takes the next joint code (see nextCode).
        ...(visibility !== item.visibility ? { code: await nextCode(em, 'PA', visibility) } : {}),
      };
      const stamp = await updateVersioned(em, PolicyItem, item.id, item.version, changes);
      await recordUpdate(
        em,
        caller.id,
        'policy_item',
        item.id,
        { before: item.visibility, after: visibility },
        {
          ...changes,
          version: stamp.version,
        },
      );
      return present({ ...item, ...changes, ...stamp });
    });
  }

  /** A DSA concurs for their own side; with both sides the item becomes aligned. */
  concur(
    caller: AuthUser,
    id: string,
    dto: ConcurDto,
    ifMatch: number[] | undefined,
  ): Promise<PolicyItemDto> {
    return this.uow.transaction(async (em) => {
      const item = await findVisiblePolicyItem(em, caller, id);
      const side = dto.delegation ?? caller.delegation!;
      assertCan(caller, { action: 'actForSide', side });
      if (!canConcur(item.status)) {
        throw new ConflictException(
          'Concurrence is given only while an item is agreed in principle',
        );
      }
      const concurred = { IN: item.concurInUserId !== null, US: item.concurUsUserId !== null };
      if (concurred[side]) {
        throw new ConflictException(`The ${side} side has already concurred`);
      }
      assertIfMatch(ifMatch, item.version);
      concurred[side] = true;
      const at = nowIso();
      const changes: Partial<PolicyItem> = {
        ...(side === 'IN'
          ? { concurInUserId: caller.id, concurInAt: at }
          : { concurUsUserId: caller.id, concurUsAt: at }),
        status: statusAfterConcurrence(item.status, concurred),
      };
      const stamp = await updateVersioned(em, PolicyItem, item.id, item.version, changes);
      await recordEvent(em, {
        actorId: caller.id,
        action: 'policy_item.concurred',
        entityType: 'policy_item',
        entityId: item.id,
        changes: { side, status: changes.status, version: stamp.version },
        visibility: item.visibility,
      });
      return present({ ...item, ...changes, ...stamp });
    });
  }
}

const NO_LEADS: Record<DelegationCode, null> = { IN: null, US: null };

const NO_CONCURRENCE = {
  concurInUserId: null,
  concurInAt: null,
  concurUsUserId: null,
  concurUsAt: null,
} as const;

export async function findVisiblePolicyItem(
  em: EntityManager,
  caller: AuthUser,
  id: string,
): Promise<PolicyItem> {
  const item = await em.findOneBy(PolicyItem, { id });
  assertVisible(caller, item, 'Policy item');
  return item;
}

/**
 * Each side's lead is an active member of that side; a delegation-only item has no lead from
 * the other side. Only a lead named anew is checked against the directory: a lead who has
 * since left does not block edits to the rest of the item. Problems are 400s naming the field.
 */
async function resolveLeads(
  em: EntityManager,
  current: Record<DelegationCode, string | null>,
  given: LeadsDto,
  visibility: Visibility,
): Promise<Record<DelegationCode, string | null>> {
  const errors: FieldError[] = [];
  const resolved: Record<DelegationCode, string | null> = { ...current };
  for (const side of DELEGATIONS) {
    const id = given[side] === undefined ? current[side] : given[side];
    resolved[side] = id;
    if (id === null) {
      continue;
    }
    const user = id === current[side] ? undefined : await em.findOneBy(User, { id });
    if (user !== undefined && (!user || !user.active || user.delegation !== side)) {
      errors.push({
        field: `leads.${side}`,
        message: `leads.${side} must be an active ${side} user`,
      });
    } else if (visibility !== 'joint' && visibility !== side) {
      errors.push({
        field: `leads.${side}`,
        message: `an item visible to ${visibility} only has no ${side} lead`,
      });
    }
  }
  if (errors.length > 0) {
    throw new ValidationProblem(errors, 'The leads cannot be used');
  }
  return resolved;
}

function present(item: PolicyItem): PolicyItemDto {
  return {
    id: item.id,
    code: item.code,
    title: item.title,
    description: item.description,
    isaReference: item.isaReference,
    status: item.status,
    leads: { IN: item.leadIn, US: item.leadUs },
    targetDate: item.targetDate,
    concurrence: {
      IN: item.concurInUserId ? { userId: item.concurInUserId, at: item.concurInAt! } : null,
      US: item.concurUsUserId ? { userId: item.concurUsUserId, at: item.concurUsAt! } : null,
    },
    visibility: item.visibility,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}
