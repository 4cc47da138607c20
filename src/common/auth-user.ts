import type { DelegationCode } from '../delegations/delegation.entity.js';
import type { Role } from './permissions.js';

/** The signed-in caller, as the JWT guard puts it on the request. */
export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  delegation: DelegationCode | null;
  sessionId: string;
}
