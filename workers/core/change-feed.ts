/*
 * Writes announce what changed so this isolate's copies drop it at once; other isolates catch
 * up within the consistency bound (CACHE_STALE_LIMIT_SECONDS). One feed per isolate, built with
 * the other isolate services and handed to the writers through their deps.
 */
type Listener<A extends unknown[]> = (...args: A) => void;

export class ChangeFeed {
  private readonly models = new Set<Listener<[workspaceId: string, modelName: string]>>();
  private readonly access = new Set<Listener<[]>>();

  /** A model, its versions or its aliases changed. */
  modelChanged(workspaceId: string, modelName: string): void {
    for (const listener of this.models) listener(workspaceId, modelName);
  }

  /** A credential or what it grants changed: a key revoked, a session ended, a role or a limit. */
  accessChanged(): void {
    for (const listener of this.access) listener();
  }

  onModelChange(listener: Listener<[workspaceId: string, modelName: string]>): void {
    this.models.add(listener);
  }

  onAccessChange(listener: Listener<[]>): void {
    this.access.add(listener);
  }
}

/** What a writer needs to announce its changes. */
export type ModelChanges = Pick<ChangeFeed, 'modelChanged'>;
export type AccessChanges = Pick<ChangeFeed, 'accessChanged'>;
