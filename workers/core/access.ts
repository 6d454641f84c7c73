/*
 * The vocabulary of access control, shared by storage (column types), auth and the wire
 * schemas. What each role may do lives in workers/auth/roles.ts.
 */

/** What a credential may do. API keys carry a subset; roles map to a subset. */
export const PERMISSIONS = ['models:read', 'models:write', 'predict', 'jobs', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Workspace roles, most powerful first. */
export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
