/** Who is calling. Every tenant-data route acts for `workspaceId` and nothing else. */
export interface Principal {
  kind: 'admin';
  /** Recorded as created_by / updated_by. */
  id: string;
  workspaceId: string;
}

export const DEFAULT_WORKSPACE_ID = 'ws_default';
