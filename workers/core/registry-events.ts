/*
 * Registry writes announce which model changed so per-isolate caches of resolved versions can
 * drop it at once in this isolate; other isolates catch up when their entries expire.
 */
type Listener = (workspaceId: string, modelName: string) => void;

const listeners = new Set<Listener>();

export function onModelChanged(listener: Listener): void {
  listeners.add(listener);
}

export function modelChanged(workspaceId: string, modelName: string): void {
  for (const listener of listeners) listener(workspaceId, modelName);
}
