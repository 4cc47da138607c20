import type { Role } from '../common/permissions.js';

export const ACTION_ITEM_STATUSES = [
  'open',
  'in_progress',
  'blocked',
  'done',
  'cancelled',
] as const;
export type ActionItemStatus = (typeof ACTION_ITEM_STATUSES)[number];

export function isClosed(status: ActionItemStatus): boolean {
  switch (status) {
    case 'done':
    case 'cancelled':
      return true;
    case 'open':
    case 'in_progress':
    case 'blocked':
      return false;
  }
}

/** Who moves an item: its owner (a delegate), or dsa/secretariat acting on any visible item. */
export type Mover = 'owner' | 'manager';

export type TransitionVerdict = 'allowed' | 'forbidden' | 'conflict';

/**
 * The action-item state machine (SPEC 5). A not-closed item moves freely among open,
 * in_progress, blocked and done, by its owner or a manager; only managers cancel a
 * not-closed item or reopen a closed one (closed -> open): anyone else is forbidden (403).
 * Every other move out of a closed state is a conflict (409). Staying put is always allowed.
 */
export function actionItemTransition(
  from: ActionItemStatus,
  to: ActionItemStatus,
  mover: Mover,
): TransitionVerdict {
  if (from === to) {
    return 'allowed';
  }
  if (!isClosed(from)) {
    if (to === 'cancelled') {
      return mover === 'manager' ? 'allowed' : 'forbidden';
    }
    return 'allowed';
  }
  if (to === 'open') {
    return mover === 'manager' ? 'allowed' : 'forbidden';
  }
  return 'conflict';
}

/** Roles that manage every action item they can see. */
export function managesActionItems(role: Role): boolean {
  switch (role) {
    case 'dsa':
    case 'secretariat':
      return true;
    case 'admin':
    case 'delegate':
    case 'observer':
      return false;
  }
}
