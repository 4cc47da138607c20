import { ConflictException, ForbiddenException, NotFoundException } from '@nestjs/common';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import type { AuthUser } from './auth-user.js';
import { ROLES_BELOW_DSA, type Role } from './permissions.js';

/** Who may see a record: both delegations, or one of them only. */
export type Visibility = 'joint' | DelegationCode;

/**
 * The visibility scope: the values of `visibility` a caller may see. Admin sees joint records
 * only; everyone else joint records and their own delegation's.
 */
export function visibleScopes(user: Pick<AuthUser, 'delegation'>): Visibility[] {
  return user.delegation === null ? ['joint'] : ['joint', user.delegation];
}

export function canSee(user: Pick<AuthUser, 'delegation'>, visibility: Visibility): boolean {
  return visibility === 'joint' || visibility === user.delegation;
}

/** 404 for a record that does not exist. */
export function assertFound<T>(record: T | null | undefined, what: string): asserts record is T {
  if (record === null || record === undefined) {
    throw new NotFoundException(`${what} not found`);
  }
}

/** 404 for a record that does not exist or that the caller may not see: the two look alike. */
export function assertVisible<T extends { visibility: Visibility }>(
  user: AuthUser,
  record: T | null | undefined,
  what: string,
): asserts record is T {
  if (record === null || record === undefined || !canSee(user, record.visibility)) {
    throw new NotFoundException(`${what} not found`);
  }
}

/**
 * 403 when a caller would create a record in, or move one into, the other delegation's
 * visibility (or admin into any delegation's).
 */
export function assertMayUseVisibility(user: AuthUser, visibility: Visibility): void {
  if (!canSee(user, visibility)) {
    throw new ForbiddenException(
      `You cannot place a record in the ${visibility} delegation's view`,
    );
  }
}

/**
 * A delegation-only record may be released to joint (the other side then sees it); a joint
 * record never becomes delegation-only again (409): what the other side has seen stays shared.
 */
export function assertVisibilityChange(user: AuthUser, from: Visibility, to: Visibility): void {
  if (from === to) {
    return;
  }
  assertMayUseVisibility(user, to);
  if (from === 'joint') {
    throw new ConflictException('A joint record cannot become delegation-only again');
  }
}

/** The record-level actions, with the record each one needs. */
export type RecordAction =
  | { action: 'manageUser'; target: { role: Role; delegation: DelegationCode | null } }
  | { action: 'grantRole'; role: Role; delegation: DelegationCode | null }
  | { action: 'manageActionItem' }
  | { action: 'progressActionItem'; item: { ownerId: string } }
  | { action: 'actForSide'; side: DelegationCode };

/**
 * Record-level authorization: may this caller do this to this record? Throws 403 when not.
 * Route-level role checks (PERMISSIONS) have already run; this decides the rest.
 */
export function assertCan(user: AuthUser, check: RecordAction): void {
  if (!can(user, check)) {
    throw new ForbiddenException(REFUSALS[check.action]);
  }
}

const REFUSALS: Record<RecordAction['action'], string> = {
  manageUser: 'You cannot manage this user',
  grantRole: 'You cannot give this role in this delegation',
  manageActionItem: 'Only dsa and secretariat manage action items',
  progressActionItem: 'Only the owner, dsa and secretariat move this item',
  actForSide: 'No one acts for the other delegation',
};

export function can(user: AuthUser, check: RecordAction): boolean {
  switch (check.action) {
    case 'manageUser':
      return managesMembersOf(user, check.target.role, check.target.delegation);
    case 'grantRole':
      return managesMembersOf(user, check.role, check.delegation);
    case 'manageActionItem':
      return user.role === 'dsa' || user.role === 'secretariat';
    case 'progressActionItem':
      return (
        user.role === 'dsa' ||
        user.role === 'secretariat' ||
        (user.role === 'delegate' && check.item.ownerId === user.id)
      );
    case 'actForSide':
      return user.delegation === check.side;
  }
}

/** Admin manages anyone; a DSA manages their own delegation's members below dsa. */
function managesMembersOf(user: AuthUser, role: Role, delegation: DelegationCode | null): boolean {
  switch (user.role) {
    case 'admin':
      return true;
    case 'dsa':
      return delegation === user.delegation && ROLES_BELOW_DSA.includes(role);
    case 'secretariat':
    case 'delegate':
    case 'observer':
      return false;
  }
}
