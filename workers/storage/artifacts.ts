/*
 * R2 layout. Model files are keyed by workspace and version id, never by name or number, so a
 * key is written once and never reused, even after a model is purged and its name taken again.
 */
export const artifactKey = (workspaceId: string, versionId: string) => `artifacts/${workspaceId}/${versionId}.onnx`;
