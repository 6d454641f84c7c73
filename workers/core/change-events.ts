/*
 * Writes announce what changed so per-isolate caches can drop it at once in this isolate;
 * other isolates catch up when their entries expire.
 */
function channel<A extends unknown[]>() {
  const listeners = new Set<(...args: A) => void>();
  return {
    on(listener: (...args: A) => void): void {
      listeners.add(listener);
    },
    emit(...args: A): void {
      for (const listener of listeners) listener(...args);
    },
  };
}

/** A model, its versions or its aliases changed. */
export const modelChanges = channel<[workspaceId: string, modelName: string]>();

/** A credential or what it grants changed: a key revoked, a session ended, a role or a limit. */
export const accessChanges = channel<[]>();
