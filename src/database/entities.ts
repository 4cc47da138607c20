import { RefreshToken, LoginLockout, Session } from '../auth/session.entity.js';
import { Delegation } from '../delegations/delegation.entity.js';
import { User } from '../users/user.entity.js';
import { WorkingGroup } from '../working-group/working-group.entity.js';
import { Foundation1763700000000 } from './migrations/1763700000000-foundation.js';

export const ENTITIES = [Delegation, User, Session, RefreshToken, LoginLockout, WorkingGroup];

export const MIGRATIONS = [Foundation1763700000000];
