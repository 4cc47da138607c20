import { describe, expect, it } from '@jest/globals';
import { ForbiddenException, NotFoundException } from '@nestjs/common';
import {
  assertCan,
  assertFound,
  assertVisible,
  can,
  canSee,
  type RecordAction,
  type Visibility,
  visibleScopes,
} from '../../src/common/access.js';
import type { AuthUser } from '../../src/common/auth-user.js';
import { ROLES, type Role } from '../../src/common/permissions.js';
import type { DelegationCode } from '../../src/delegations/delegation.entity.js';

function user(role: Role, delegation: DelegationCode | null): AuthUser {
  return {
    id: `${role}-${delegation ?? 'none'}`,
    username: `${role}.${delegation ?? 'none'}`,
    role,
    delegation,
    sessionId: 'session',
  };
}

const admin = user('admin', null);
const inUser = user('delegate', 'IN');
const usUser = user('delegate', 'US');

/** Every account that can exist: admin without a delegation, every other role in each. */
const CALLERS: AuthUser[] = ROLES.flatMap((role) =>
  role === 'admin' ? [user(role, null)] : [user(role, 'IN'), user(role, 'US')],
);

/** Every role with every delegation value, including combinations the API refuses (400). */
const TARGETS: { role: Role; delegation: DelegationCode | null }[] = ROLES.flatMap((role) =>
  (['IN', 'US', null] as const).map((delegation) => ({ role, delegation })),
);

/** The rule of SPEC section 4, written out independently of access.ts. */
function expectedAllowed(caller: AuthUser, target: (typeof TARGETS)[number]): boolean {
  if (caller.role === 'admin') {
    return true;
  }
  return (
    caller.role === 'dsa' &&
    target.delegation === caller.delegation &&
    ['secretariat', 'delegate', 'observer'].includes(target.role)
  );
}

const CASES = CALLERS.flatMap((caller) =>
  TARGETS.flatMap((target) =>
    (['manageUser', 'grantRole'] as const).map((action) => ({
      caller,
      target,
      action,
      allowed: expectedAllowed(caller, target),
    })),
  ),
);

function check(action: 'manageUser' | 'grantRole', target: (typeof TARGETS)[number]): RecordAction {
  return action === 'manageUser'
    ? { action, target }
    : { action, role: target.role, delegation: target.delegation };
}

describe('visibility scope', () => {
  it('admin sees joint records only', () => {
    expect(visibleScopes(admin)).toEqual(['joint']);
    expect(canSee(admin, 'joint')).toBe(true);
    expect(canSee(admin, 'IN')).toBe(false);
    expect(canSee(admin, 'US')).toBe(false);
  });

  it.each(ROLES.filter((role) => role !== 'admin'))(
    'an IN %s sees joint and IN records, never US ones',
    (role) => {
      const caller = user(role, 'IN');
      expect(visibleScopes(caller)).toEqual(['joint', 'IN']);
      expect(canSee(caller, 'joint')).toBe(true);
      expect(canSee(caller, 'IN')).toBe(true);
      expect(canSee(caller, 'US')).toBe(false);
    },
  );

  it.each(ROLES.filter((role) => role !== 'admin'))(
    'a US %s sees joint and US records, never IN ones',
    (role) => {
      const caller = user(role, 'US');
      expect(visibleScopes(caller)).toEqual(['joint', 'US']);
      expect(canSee(caller, 'joint')).toBe(true);
      expect(canSee(caller, 'US')).toBe(true);
      expect(canSee(caller, 'IN')).toBe(false);
    },
  );

  it('canSee agrees with visibleScopes for every caller and visibility', () => {
    const visibilities: Visibility[] = ['joint', 'IN', 'US'];
    for (const caller of CALLERS) {
      for (const visibility of visibilities) {
        expect(canSee(caller, visibility)).toBe(visibleScopes(caller).includes(visibility));
      }
    }
  });
});

describe('assertFound', () => {
  it('throws 404 naming the record for null and undefined', () => {
    expect(() => assertFound(null, 'Meeting')).toThrow(new NotFoundException('Meeting not found'));
    expect(() => assertFound(undefined, 'Meeting')).toThrow(NotFoundException);
  });

  it('passes any present record, falsy values included', () => {
    expect(() => assertFound({ id: 'x' }, 'Meeting')).not.toThrow();
    expect(() => assertFound(0, 'Count')).not.toThrow();
  });
});

describe('assertVisible', () => {
  it('throws 404 for a missing record', () => {
    expect(() => assertVisible(inUser, null, 'Action item')).toThrow(
      new NotFoundException('Action item not found'),
    );
    expect(() => assertVisible(inUser, undefined, 'Action item')).toThrow(NotFoundException);
  });

  it("throws the same 404 for the other delegation's record as for a missing one", () => {
    const missing = captureMessage(() => assertVisible(inUser, null, 'Action item'));
    const hidden = captureMessage(() =>
      assertVisible(inUser, { visibility: 'US' as const }, 'Action item'),
    );
    expect(hidden).toBe(missing);
    expect(() => assertVisible(usUser, { visibility: 'IN' as const }, 'Action item')).toThrow(
      NotFoundException,
    );
  });

  it('throws 404 to admin for a delegation-only record', () => {
    expect(() => assertVisible(admin, { visibility: 'IN' as const }, 'Policy item')).toThrow(
      NotFoundException,
    );
    expect(() => assertVisible(admin, { visibility: 'US' as const }, 'Policy item')).toThrow(
      NotFoundException,
    );
  });

  it('passes joint records for everyone and own-delegation records for members', () => {
    for (const caller of CALLERS) {
      expect(() => assertVisible(caller, { visibility: 'joint' as const }, 'Item')).not.toThrow();
    }
    expect(() => assertVisible(inUser, { visibility: 'IN' as const }, 'Item')).not.toThrow();
    expect(() => assertVisible(usUser, { visibility: 'US' as const }, 'Item')).not.toThrow();
  });
});

describe('assertCan', () => {
  it('covers every caller, target and action', () => {
    expect(CALLERS).toHaveLength(9);
    expect(CASES).toHaveLength(9 * 15 * 2);
    expect(CASES.filter((c) => c.allowed)).toHaveLength(
      // admin: everything; each DSA: three roles in their own delegation
      15 * 2 + 2 * 3 * 2,
    );
  });

  it.each(CASES)(
    '$action by $caller.role ($caller.delegation) on $target.role ($target.delegation): allowed=$allowed',
    ({ caller, target, action, allowed }) => {
      const run = () => assertCan(caller, check(action, target));
      if (allowed) {
        expect(run).not.toThrow();
      } else {
        expect(run).toThrow(ForbiddenException);
      }
      expect(can(caller, check(action, target))).toBe(allowed);
    },
  );

  it('answers 403 with a short message', () => {
    expect(() =>
      assertCan(user('dsa', 'IN'), { action: 'grantRole', role: 'delegate', delegation: 'US' }),
    ).toThrow(ForbiddenException);
  });
});

function captureMessage(run: () => void): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error, but none was thrown');
}
