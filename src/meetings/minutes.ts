import type { DelegationCode } from '../delegations/delegation.entity.js';

export const MINUTES_STATUSES = ['none', 'draft', 'circulated', 'agreed'] as const;
export type MinutesStatus = (typeof MINUTES_STATUSES)[number];

export type MinutesVerdict<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Writing the draft: allowed until agreed; editing circulated minutes takes them back to
 * draft and voids the approvals given so far.
 */
export function writeDraft(status: MinutesStatus): MinutesVerdict<{ clearsApprovals: boolean }> {
  switch (status) {
    case 'none':
    case 'draft':
      return { ok: true, value: { clearsApprovals: false } };
    case 'circulated':
      return { ok: true, value: { clearsApprovals: true } };
    case 'agreed':
      return { ok: false, reason: 'The minutes are agreed and locked' };
  }
}

export function circulate(status: MinutesStatus): MinutesVerdict<MinutesStatus> {
  switch (status) {
    case 'draft':
      return { ok: true, value: 'circulated' };
    case 'none':
      return { ok: false, reason: 'There are no minutes to circulate: write a draft first' };
    case 'circulated':
      return { ok: false, reason: 'The minutes are already circulated' };
    case 'agreed':
      return { ok: false, reason: 'The minutes are agreed and locked' };
  }
}

/**
 * A DSA approves for their own side; with both sides' approvals the minutes are agreed.
 */
export function approve(
  status: MinutesStatus,
  approvedBy: readonly DelegationCode[],
  side: DelegationCode,
): MinutesVerdict<MinutesStatus> {
  switch (status) {
    case 'circulated': {
      if (approvedBy.includes(side)) {
        return { ok: false, reason: `The ${side} side has already approved these minutes` };
      }
      const sides = new Set([...approvedBy, side]);
      return { ok: true, value: sides.has('IN') && sides.has('US') ? 'agreed' : 'circulated' };
    }
    case 'none':
    case 'draft':
      return { ok: false, reason: 'Only circulated minutes can be approved' };
    case 'agreed':
      return { ok: false, reason: 'The minutes are agreed and locked' };
  }
}
