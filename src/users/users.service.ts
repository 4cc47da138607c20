import { BadRequestException, ConflictException, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { assertCan, assertFound } from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import { assertIfMatch } from '../common/if-match.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../common/pagination.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import { DEFAULT_TIMEZONE, type DelegationCode } from '../delegations/delegation.entity.js';
import { AuthService } from '../auth/auth.service.js';
import type { TokenPairDto } from '../auth/dto/auth.dto.js';
import { hashPassword } from '../auth/passwords.js';
import { ValidationProblem } from '../common/problem-details.filter.js';
import { endAllSessions } from '../auth/sessions.js';
import type {
  ChangePasswordDto,
  CreateUserDto,
  ListUsersQueryDto,
  UpdateUserDto,
  UserDto,
} from './dto/user.dto.js';
import { User } from './user.entity.js';
import { recordEvent } from '../audit/audit-log.js';
import { CalendarFeed } from '../calendar/calendar-feed.entity.js';

/** Fields a user may change on their own profile without managing users. */
const SELF_SERVICE_FIELDS = new Set(['displayName', 'email', 'timezone']);

@Injectable()
export class UsersService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly auth: AuthService,
  ) {}

  async list(caller: AuthUser, query: ListUsersQueryDto): Promise<Page<UserDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? String(decodeCursor(query.cursor, 1)[0]) : undefined;
    const rows = await this.uow.read((em) => {
      const qb = em
        .createQueryBuilder(User, 'u')
        .orderBy('u.username')
        .limit(limit + 1);
      if (after !== undefined) {
        qb.andWhere('u.username > :after', { after });
      }
      if (query.role) {
        qb.andWhere('u.role = :role', { role: query.role });
      }
      if (query.delegation) {
        qb.andWhere('u.delegation = :delegation', { delegation: query.delegation });
      }
      return qb.getMany();
    });
    return toPage(
      rows,
      limit,
      (u) => [u.username],
      (u) => present(u, caller),
    );
  }

  async get(caller: AuthUser, id: string): Promise<UserDto> {
    const user = await this.uow.read((em) => em.findOneBy(User, { id }));
    assertFound(user, 'User');
    return present(user, caller);
  }

  async create(caller: AuthUser, dto: CreateUserDto): Promise<UserDto> {
    assertRoleFitsDelegation(dto.role, dto.delegation);
    assertCan(caller, { action: 'grantRole', role: dto.role, delegation: dto.delegation });
    const passwordHash = await hashPassword(dto.password);
    const now = nowIso();
    const user: User = {
      id: randomUUID(),
      username: dto.username.toLowerCase(),
      displayName: dto.displayName,
      role: dto.role,
      delegation: dto.delegation,
      email: dto.email ?? null,
      timezone: dto.timezone ?? defaultTimezone(dto.delegation),
      active: true,
      passwordHash,
      tokenVersion: 0,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    await this.uow.transaction(async (em) => {
      await assertUsernameFree(em, user.username);
      await assertNoOtherActiveDsa(em, user);
      await em.insert(User, user);
      await recordEvent(em, {
        actorId: caller.id,
        action: 'user.created',
        entityType: 'user',
        entityId: user.id,
        changes: { username: user.username, role: user.role, delegation: user.delegation },
        visibility: 'account',
      });
    });
    return present(user, caller);
  }

  async update(
    caller: AuthUser,
    id: string,
    dto: UpdateUserDto,
    ifMatch: number[] | undefined,
  ): Promise<UserDto> {
    const updated = await this.uow.transaction(async (em) => {
      const user = await em.findOneBy(User, { id });
      assertFound(user, 'User');
      const selfService =
        caller.id === user.id && Object.keys(dto).every((field) => SELF_SERVICE_FIELDS.has(field));
      if (!selfService) {
        assertCan(caller, { action: 'manageUser', target: user });
      }
      if (dto.role !== undefined && dto.role !== user.role) {
        assertRoleFitsDelegation(dto.role, user.delegation);
        assertCan(caller, { action: 'grantRole', role: dto.role, delegation: user.delegation });
      }
      const next: User = { ...user, ...dto };
      const endsSessions = next.role !== user.role || (user.active && !next.active);
      await assertNoOtherActiveDsa(em, next);
      if (user.role === 'admin' && user.active && (next.role !== 'admin' || !next.active)) {
        await assertAnotherActiveAdmin(em, user.id);
      }
      assertIfMatch(ifMatch, user.version);
      Object.assign(next, await updateVersioned(em, User, user.id, user.version, dto));
      await recordEvent(em, {
        actorId: caller.id,
        action: 'user.updated',
        entityType: 'user',
        entityId: user.id,
        changes: { ...dto, version: next.version },
        visibility: 'account',
      });
      if (user.active && !next.active) {
        // A deactivated account's calendar URL dies with it, and stays dead if it comes back.
        await em.delete(CalendarFeed, { userId: user.id });
      }
      if (endsSessions) {
        await endAllSessions(em, user.id);
      }
      return next;
    });
    return present(updated, caller);
  }

  async me(caller: AuthUser): Promise<UserDto> {
    return this.get(caller, caller.id);
  }

  /** Changes the caller's password, ends all their sessions and opens a new one. */
  async changePassword(caller: AuthUser, dto: ChangePasswordDto): Promise<TokenPairDto> {
    const user = await this.auth.checkPassword(caller.username, dto.currentPassword);
    if (!user) {
      throw new ValidationProblem(
        [{ field: 'currentPassword', message: 'currentPassword is not your current password' }],
        'The current password is not correct',
      );
    }
    const passwordHash = await hashPassword(dto.newPassword);
    return this.auth.restartSessions(user.id, async (em) => {
      await em.update(User, { id: user.id }, { passwordHash });
      await recordEvent(em, {
        actorId: user.id,
        action: 'user.password_changed',
        entityType: 'user',
        entityId: user.id,
        visibility: 'account',
      });
    });
  }
}

/** The public directory entry; email and timezone only for self, admin and the own DSA. */
export function present(user: User, caller: AuthUser): UserDto {
  const dto: UserDto = {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    delegation: user.delegation,
    active: Boolean(user.active),
    version: user.version,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
  const private_ =
    caller.id === user.id ||
    caller.role === 'admin' ||
    (caller.role === 'dsa' && caller.delegation === user.delegation);
  if (private_) {
    dto.email = user.email;
    dto.timezone = user.timezone;
  }
  return dto;
}

function defaultTimezone(delegation: DelegationCode | null): string {
  return delegation === null ? 'UTC' : DEFAULT_TIMEZONE[delegation];
}

function assertRoleFitsDelegation(role: User['role'], delegation: DelegationCode | null): void {
  if ((role === 'admin') !== (delegation === null)) {
    throw new BadRequestException(
      role === 'admin'
        ? 'An admin belongs to no delegation: delegation must be null'
        : 'Every role but admin belongs to a delegation: IN or US',
    );
  }
}

async function assertUsernameFree(em: EntityManager, username: string): Promise<void> {
  if (await em.existsBy(User, { username })) {
    throw new ConflictException(`The username ${username} is taken`);
  }
}

async function assertNoOtherActiveDsa(em: EntityManager, user: User): Promise<void> {
  if (user.role !== 'dsa' || !user.active || user.delegation === null) {
    return;
  }
  const other = await em
    .createQueryBuilder(User, 'u')
    .where("u.role = 'dsa' AND u.active = :active AND u.delegation = :delegation AND u.id <> :id", {
      active: true,
      delegation: user.delegation,
      id: user.id,
    })
    .getExists();
  if (other) {
    throw new ConflictException(`The ${user.delegation} delegation already has an active DSA`);
  }
}

async function assertAnotherActiveAdmin(em: EntityManager, exceptId: string): Promise<void> {
  const others = await em
    .createQueryBuilder(User, 'u')
    .where("u.role = 'admin' AND u.active = :active AND u.id <> :id", {
      active: true,
      id: exceptId,
    })
    .getExists();
  if (!others) {
    throw new ConflictException('This is the last active admin account');
  }
}
