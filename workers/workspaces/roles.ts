import type { Principal, Role } from '../auth/principal';
import { permissionDenied } from '../core/errors';

/**
 * The role a caller acts with when managing members: the platform administrator counts as an
 * owner, an admin-scoped API key as an admin.
 */
export function actingRole(principal: Principal): Role {
  if (principal.kind === 'admin') return 'owner';
  if (principal.kind === 'api_key') return 'admin';
  return principal.role;
}

/** Only owners make or unmake owners. */
export function requireOwnerFor(principal: Principal, ...roles: Role[]): void {
  if (roles.includes('owner') && actingRole(principal) !== 'owner') {
    throw permissionDenied('only an owner can grant or take away the owner role', { code: 'owner_only' });
  }
}
