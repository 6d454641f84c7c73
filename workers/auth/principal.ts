/** What a credential may do. API keys carry a subset; roles map to a subset. */
export const PERMISSIONS = ['models:read', 'models:write', 'predict', 'jobs', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Who is calling. Every tenant-data route acts for `workspaceId` and nothing else. */
export interface Principal {
  kind: 'admin';
  /** Recorded as created_by / updated_by. */
  id: string;
  workspaceId: string;
  permissions: ReadonlySet<Permission>;
}

export const DEFAULT_WORKSPACE_ID = 'ws_default';
