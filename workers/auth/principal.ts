import type { Permission, Role } from '../core/access';

export { PERMISSIONS, ROLES, type Permission, type Role } from '../core/access';

/** A workspace's own rate limits; null fields fall back to the platform configuration. */
export interface WorkspaceLimits {
  prediction: number | null;
  management: number | null;
  windowSeconds: number | null;
}

interface PrincipalBase {
  /** Recorded as created_by / updated_by and as the audit actor. */
  id: string;
  /** Every tenant-data route acts for this workspace and nothing else. */
  workspaceId: string;
  permissions: ReadonlySet<Permission>;
  limits: WorkspaceLimits;
}

/** The platform administrator (ADMIN_API_KEY): every permission, in any workspace it names. */
export interface AdminPrincipal extends PrincipalBase {
  kind: 'admin';
}

/** A signed-in user acting in one of their workspaces with the permissions of their role there. */
export interface UserPrincipal extends PrincipalBase {
  kind: 'user';
  role: Role;
  /** The login session the access token belongs to. */
  sessionId: string;
}

/**
 * An API key: bound to its workspace, acting for its owner (the user who made it, or `admin`),
 * with its scopes as permissions, cut to what the owner's role there allows.
 */
export interface ApiKeyPrincipal extends PrincipalBase {
  kind: 'api_key';
  ownerId: string;
}

/** Who is calling. */
export type Principal = AdminPrincipal | UserPrincipal | ApiKeyPrincipal;

export const DEFAULT_WORKSPACE_ID = 'ws_default';
