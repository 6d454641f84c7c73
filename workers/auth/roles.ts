import { PERMISSIONS, ROLES, type Permission, type Role } from '../core/access';

const ALL: ReadonlySet<Permission> = new Set(PERMISSIONS);

/** What each role may do in its workspace. */
const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  owner: ALL,
  admin: ALL,
  member: new Set<Permission>(['models:read', 'models:write', 'predict', 'jobs']),
  viewer: new Set<Permission>(['models:read']),
};

export const allPermissions = (): ReadonlySet<Permission> => ALL;

export const permissionsOf = (role: Role): ReadonlySet<Permission> => ROLE_PERMISSIONS[role];

/** True when `a` is `b` or above it (owner > admin > member > viewer). */
export const roleAtLeast = (a: Role, b: Role): boolean => ROLES.indexOf(a) <= ROLES.indexOf(b);
