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

/** A job's results in one object, written once its chunks are all done (see batch/results.ts). */
export const jobResultsKey = (workspaceId: string, jobId: string) => `jobs/${workspaceId}/${jobId}/results.jsonl`;

/**
 * A model's logged predictions of one UTC day (YYYY-MM-DD), as JSON Lines: the daily export. Named
 * by the model's name so a team can find it; a purge deletes the model's exports, so a model
 * created again under the name starts with none.
 */
export const predictionExportKey = (workspaceId: string, model: string, day: string) =>
  `${predictionExportPrefix(workspaceId, model)}${day}.jsonl`;

export const predictionExportPrefix = (workspaceId: string, model: string) =>
  `exports/${workspaceId}/predictions/${model}/`;
