/*
 * R2 layout. Every key starts with what it is and the workspace that owns it; ids, never names
 * or numbers, make keys unique, so a key is written once and never reused (a model purged and
 * its name taken again gets new keys).
 */
export const artifactKey = (workspaceId: string, versionId: string) => `artifacts/${workspaceId}/${versionId}.onnx`;

/** The graph the import rewrote for serving, beside the original (under the same prefix, so repair sees it). */
export const servingKey = (workspaceId: string, versionId: string) =>
  `artifacts/${workspaceId}/${versionId}.serving.onnx`;

export const uploadKey = (workspaceId: string, uploadId: string) => `uploads/${workspaceId}/${uploadId}.jsonl`;

/** Inputs a workspace may name by key when it submits a job. */
export const workspaceInputPrefix = (workspaceId: string) => `uploads/${workspaceId}/`;

/** Deterministic: a redelivered chunk overwrites its own result, never adds a second one. */
export const chunkResultKey = (workspaceId: string, jobId: string, index: number) =>
  `jobs/${workspaceId}/${jobId}/chunks/${String(index).padStart(6, '0')}.jsonl`;
