export const POLICY_ITEM_STATUSES = [
  'proposed',
  'under_discussion',
  'agreed_in_principle',
  'aligned',
  'implemented',
  'withdrawn',
] as const;
export type PolicyItemStatus = (typeof POLICY_ITEM_STATUSES)[number];

/**
 * The moves a PATCH may make (SPEC 5): forward one step along proposed -> under_discussion
 * -> agreed_in_principle, aligned -> implemented, and anything but implemented -> withdrawn.
 * `aligned` is never set by hand: it follows from both DSAs' concurrence (see concur()).
 */
export function canMovePolicyItem(from: PolicyItemStatus, to: PolicyItemStatus): boolean {
  if (from === to) {
    return true;
  }
  switch (to) {
    case 'proposed':
    case 'aligned':
      return false;
    case 'under_discussion':
      return from === 'proposed';
    case 'agreed_in_principle':
      return from === 'under_discussion';
    case 'implemented':
      return from === 'aligned';
    case 'withdrawn':
      return from !== 'implemented';
  }
}

/** A DSA may concur only while the item is agreed in principle. */
export function canConcur(status: PolicyItemStatus): boolean {
  return status === 'agreed_in_principle';
}

/** Aligned and implemented items are locked: their text no longer changes. */
export function isTextLocked(status: PolicyItemStatus): boolean {
  switch (status) {
    case 'aligned':
    case 'implemented':
      return true;
    case 'proposed':
    case 'under_discussion':
    case 'agreed_in_principle':
    case 'withdrawn':
      return false;
  }
}

/** Status after a concurrence: aligned once both sides have concurred. */
export function statusAfterConcurrence(
  status: PolicyItemStatus,
  concurred: { IN: boolean; US: boolean },
): PolicyItemStatus {
  return status === 'agreed_in_principle' && concurred.IN && concurred.US ? 'aligned' : status;
}
