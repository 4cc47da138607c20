/**
 * The role table of SPEC section 4, and the only place it lives. Routes name one of these
 * entries with @Roles(); record-level rules (own delegation, own item, visibility) are in
 * access.ts.
 */
export const ROLES = ['admin', 'dsa', 'secretariat', 'delegate', 'observer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  /** Create, edit and deactivate users: admin anyone, a DSA their delegation below dsa. */
  manageUsers: ['admin', 'dsa'],
  /** Edit the working group's settings (cadence, mandate). */
  editWorkingGroup: ['dsa'],
  /** Create and edit meetings and agenda items, log outcomes, write and circulate minutes. */
  manageMeetings: ['dsa', 'secretariat'],
  /** Approve minutes for one's own side. */
  approveMinutes: ['dsa'],
  /** Create and edit policy-alignment items. */
  managePolicyItems: ['dsa', 'secretariat'],
  /** Concur on a policy-alignment item for one's own side. */
  concur: ['dsa'],
  /** Create action items, assign owners, set due dates, cancel and reopen. */
  manageActionItems: ['dsa', 'secretariat'],
  /** Move an action item's status and post updates (delegates: their own items only). */
  progressActionItems: ['dsa', 'secretariat', 'delegate'],
  /** Write delegation-internal notes. */
  writeNotes: ['dsa', 'secretariat', 'delegate'],
  /** Run or preview the reminder pass. */
  runReminders: ['admin'],
  /** Read the audit log: admin the joint and account events, a DSA joint and own delegation. */
  readAudit: ['admin', 'dsa'],
  /** Verify the audit chain. */
  verifyAudit: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

/** Roles a DSA may create or manage within their own delegation. */
export const ROLES_BELOW_DSA: readonly Role[] = ['secretariat', 'delegate', 'observer'];
