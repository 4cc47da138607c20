import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AuthUser } from './auth-user.js';
import type { Role } from './permissions.js';

export const IS_PUBLIC = 'jwg:public';
export const ROLES_KEY = 'jwg:roles';

/** Opts a route out of the global JWT guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Limits a route to the roles of one entry in PERMISSIONS (common/permissions.ts). */
export const Roles = (roles: readonly Role[]) => SetMetadata(ROLES_KEY, roles);

export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  return ctx.switchToHttp().getRequest<{ user: AuthUser }>().user;
});
