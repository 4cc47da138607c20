/**
 * The role table of SPEC section 4, and the only place it lives. Routes name one of these
 * entries with @Roles(); record-level rules (own delegation, own item) are in access.ts.
 */
export const ROLES = ['admin', 'dsa', 'secretariat', 'delegate', 'observer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  /** Create, edit and deactivate users: admin anyone, a DSA their delegation below dsa. */
  manageUsers: ['admin', 'dsa'],
  /** Edit the working group's settings (cadence, mandate). */
  editWorkingGroup: ['dsa'],
} as const satisfies Record<string, readonly Role[]>;

/** Roles a DSA may create or manage within their own delegation. */
export const ROLES_BELOW_DSA: readonly Role[] = ['secretariat', 'delegate', 'observer'];
