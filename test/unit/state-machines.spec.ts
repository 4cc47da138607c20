import { describe, expect, it } from '@jest/globals';
import {
  ACTION_ITEM_STATUSES,
  actionItemTransition,
  type ActionItemStatus,
  isClosed,
  type Mover,
} from '../../src/action-items/action-item-status.js';
import {
  canMoveMeeting,
  MEETING_STATUSES,
  type MeetingStatus,
} from '../../src/meetings/meeting-status.js';
import { approve, circulate, MINUTES_STATUSES, writeDraft } from '../../src/meetings/minutes.js';
import {
  canConcur,
  canMovePolicyItem,
  isTextLocked,
  POLICY_ITEM_STATUSES,
  type PolicyItemStatus,
  statusAfterConcurrence,
} from '../../src/policy-items/policy-item-status.js';

/** Every pair of states, so that each allowed and each refused transition is one case. */
const pairs = <S extends string>(states: readonly S[]) =>
  states.flatMap((from) => states.map((to) => [from, to] as [S, S]));

describe('action item status', () => {
  const OPEN: ActionItemStatus[] = ['open', 'in_progress', 'blocked'];

  /** SPEC 5, written out independently of the module. */
  function expected(from: ActionItemStatus, to: ActionItemStatus, mover: Mover): string {
    if (from === to) {
      return 'allowed';
    }
    if (OPEN.includes(from)) {
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

  const cases = pairs(ACTION_ITEM_STATUSES).flatMap(([from, to]) =>
    (['owner', 'manager'] as Mover[]).map((mover) => ({
      from,
      to,
      mover,
      verdict: expected(from, to, mover),
    })),
  );

  it.each(cases)('$from -> $to by $mover is $verdict', ({ from, to, mover, verdict }) => {
    expect(actionItemTransition(from, to, mover)).toBe(verdict);
  });

  it('closes done and cancelled only', () => {
    expect(ACTION_ITEM_STATUSES.filter(isClosed)).toEqual(['done', 'cancelled']);
  });
});

describe('policy item status', () => {
  const allowed = new Set([
    'proposed>under_discussion',
    'under_discussion>agreed_in_principle',
    'aligned>implemented',
    'proposed>withdrawn',
    'under_discussion>withdrawn',
    'agreed_in_principle>withdrawn',
    'aligned>withdrawn',
  ]);

  it.each(pairs(POLICY_ITEM_STATUSES))(
    '%s -> %s by hand',
    (from: PolicyItemStatus, to: PolicyItemStatus) => {
      expect(canMovePolicyItem(from, to)).toBe(from === to || allowed.has(`${from}>${to}`));
    },
  );

  it('never sets aligned by hand', () => {
    for (const from of POLICY_ITEM_STATUSES.filter((s) => s !== 'aligned')) {
      expect(canMovePolicyItem(from, 'aligned')).toBe(false);
    }
  });

  it.each(POLICY_ITEM_STATUSES)('concurrence in %s', (status) => {
    expect(canConcur(status)).toBe(status === 'agreed_in_principle');
  });

  it.each(POLICY_ITEM_STATUSES)('text lock in %s', (status) => {
    expect(isTextLocked(status)).toBe(status === 'aligned' || status === 'implemented');
  });

  it('aligns only with both concurrences, only from agreed_in_principle', () => {
    expect(statusAfterConcurrence('agreed_in_principle', { IN: true, US: false })).toBe(
      'agreed_in_principle',
    );
    expect(statusAfterConcurrence('agreed_in_principle', { IN: false, US: true })).toBe(
      'agreed_in_principle',
    );
    expect(statusAfterConcurrence('agreed_in_principle', { IN: true, US: true })).toBe('aligned');
    expect(statusAfterConcurrence('under_discussion', { IN: true, US: true })).toBe(
      'under_discussion',
    );
  });
});

describe('meeting status', () => {
  const allowed = new Set([
    'planned>in_session',
    'in_session>held',
    'planned>cancelled',
    'in_session>cancelled',
  ]);

  it.each(pairs(MEETING_STATUSES))(
    '%s -> %s by PATCH',
    (from: MeetingStatus, to: MeetingStatus) => {
      expect(canMoveMeeting(from, to)).toBe(from === to || allowed.has(`${from}>${to}`));
    },
  );
});

describe('minutes', () => {
  it.each(MINUTES_STATUSES)('writing the draft from %s', (status) => {
    const verdict = writeDraft(status);
    switch (status) {
      case 'none':
      case 'draft':
        expect(verdict).toEqual({ ok: true, value: { clearsApprovals: false } });
        break;
      case 'circulated':
        expect(verdict).toEqual({ ok: true, value: { clearsApprovals: true } });
        break;
      case 'agreed':
        expect(verdict.ok).toBe(false);
    }
  });

  it.each(MINUTES_STATUSES)('circulating from %s', (status) => {
    expect(circulate(status)).toEqual(
      status === 'draft'
        ? { ok: true, value: 'circulated' }
        : { ok: false, reason: expect.any(String) },
    );
  });

  it('agrees only with both sides, each once, only when circulated', () => {
    expect(approve('circulated', [], 'IN')).toEqual({ ok: true, value: 'circulated' });
    expect(approve('circulated', ['IN'], 'US')).toEqual({ ok: true, value: 'agreed' });
    expect(approve('circulated', ['US'], 'IN')).toEqual({ ok: true, value: 'agreed' });
    expect(approve('circulated', ['IN'], 'IN').ok).toBe(false);
    for (const status of ['none', 'draft', 'agreed'] as const) {
      expect(approve(status, [], 'IN').ok).toBe(false);
    }
  });
});
