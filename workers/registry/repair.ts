import { modelVersions } from '../storage/schema';
import { versionFiles } from './artifacts';
import type { RegistryDeps } from './types';

/*
 * The registry writes a model file to R2 before the version row that refers to it, and a purge
 * deletes rows before files, so a failure part-way can leave files that no row refers to (an
 * upload whose cleanup failed too, a purge cut short), never rows without files. This pass,
 * run by the cron trigger, deletes such files once they are older than the grace period (an
 * upload still under way is younger), and reports rows whose file is missing all the same.
 */

const ARTIFACTS = 'artifacts/';
const DELETES_PER_CALL = 1000;

export interface ArtifactRepair {
  /** Keys of files no version refers to, deleted. */
  deleted: string[];
  /** Files no version refers to yet, younger than the grace period: left alone. */
  young: number;
  /** Versions (older than the grace period) whose file R2 does not hold. */
  missing: { versionId: string; key: string }[];
}

async function listArtifacts(bucket: R2Bucket): Promise<Map<string, number>> {
  const uploaded = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: ARTIFACTS, cursor, limit: 1000 });
    for (const object of page.objects) uploaded.set(object.key, object.uploaded.getTime());
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return uploaded;
}

export async function repairArtifacts(
  deps: Pick<RegistryDeps, 'db' | 'bucket' | 'logger'>,
  now: number,
  graceSeconds: number,
): Promise<ArtifactRepair> {
  const cutoff = now - graceSeconds * 1000;
  // R2 first: a file written after the listing is not judged; one listed before its row was
  // inserted is young and kept.
  const files = await listArtifacts(deps.bucket);
  const rows = await deps.db
    .select({
      versionId: modelVersions.id,
      key: modelVersions.artifactKey,
      serving: modelVersions.serving,
      createdAt: modelVersions.createdAt,
    })
    .from(modelVersions);
  const referenced = new Set(rows.flatMap((r) => versionFiles(r)));
  const orphans = [...files].filter(([key]) => !referenced.has(key));
  const deleted = orphans.filter(([, uploaded]) => uploaded < cutoff).map(([key]) => key);
  for (let i = 0; i < deleted.length; i += DELETES_PER_CALL) {
    await deps.bucket.delete(deleted.slice(i, i + DELETES_PER_CALL));
  }
  const missing = rows
    .filter((r) => r.createdAt < cutoff)
    .flatMap(({ versionId, key, serving }) => versionFiles({ key, serving }).map((k) => ({ versionId, key: k })))
    .filter((m) => !files.has(m.key));
  for (const m of missing) {
    deps.logger.error('model version has no file in R2', m);
  }
  if (deleted.length > 0) {
    deps.logger.info('unreferenced model files deleted', { count: deleted.length });
  }
  return { deleted, young: orphans.length - deleted.length, missing };
}
