import { eq } from 'drizzle-orm';
import { modelChanges } from '../core/change-events';
import { forgetModelMonitoring, type ForgottenCounts } from '../monitoring/forget-model';
import { modelAliases, models, modelVersions } from '../storage/schema';
import { requireModel } from './models';
import type { RegistryDeps, Scope } from './types';

export interface PurgeDeps extends RegistryDeps {
  kv: KVNamespace;
}

/** Cached predictions deleted per purge: KV allows about a thousand operations per invocation. */
export const MAX_CACHE_DELETES = 500;

/**
 * Deletes a model for good: its versions, aliases and files, and everything monitoring and the
 * prediction cache kept about it, so old prediction ids answer 404 and a model created again
 * under the name starts empty. Monitoring data goes first, while the model still exists: if
 * that fails, the purge can be asked again. Registry rows go next in one batch, so a failure
 * part-way leaves at worst unreferenced R2 objects, never rows pointing at nothing; then a
 * second monitoring pass catches what requests served meanwhile wrote.
 */
export async function purgeModel(
  deps: PurgeDeps,
  scope: Scope,
  name: string,
): Promise<{ versions: number; bytes: number; cachedPredictions: number } & ForgottenCounts> {
  const model = await requireModel(deps, scope, name);
  const known = await deps.db
    .select({ id: modelVersions.id })
    .from(modelVersions)
    .where(eq(modelVersions.modelId, model.id));
  const forgotten = await forgetModelMonitoring(
    deps.db,
    model,
    known.map((v) => v.id),
  );
  // The files to delete are read in the same batch as the rows: a version uploaded a moment
  // before is then either in both or in neither, never deleted with its file left in R2.
  const [versions] = await deps.db.batch([
    deps.db
      .select({ id: modelVersions.id, key: modelVersions.artifactKey, size: modelVersions.sizeBytes })
      .from(modelVersions)
      .where(eq(modelVersions.modelId, model.id)),
    deps.db.delete(modelAliases).where(eq(modelAliases.modelId, model.id)),
    deps.db.delete(modelVersions).where(eq(modelVersions.modelId, model.id)),
    deps.db.delete(models).where(eq(models.id, model.id)),
  ]);
  modelChanges.emit(scope.workspaceId, name);
  const versionIds = versions.map((v) => v.id);
  const late = await forgetModelMonitoring(deps.db, model, versionIds);
  const cachedPredictions = await deleteCachedPredictions(deps.kv, versionIds);
  const keys = versions.map((v) => v.key);
  for (let i = 0; i < keys.length; i += 1000) await deps.bucket.delete(keys.slice(i, i + 1000));
  return {
    versions: versions.length,
    bytes: versions.reduce((sum, v) => sum + v.size, 0),
    cachedPredictions,
    predictions: forgotten.predictions + late.predictions,
    feedback: forgotten.feedback + late.feedback,
    metricRows: forgotten.metricRows + late.metricRows,
    driftRows: forgotten.driftRows + late.driftRows,
  };
}

/**
 * Deletes the versions' cached predictions (`pred:<version id>:…`) from KV, up to
 * MAX_CACHE_DELETES. Whatever is left (and copies in other isolates' memory tier) can no
 * longer be read: the keys name version ids, which are never reused, so no model created
 * later can hit them, and they expire with the model's cache TTL.
 */
async function deleteCachedPredictions(kv: KVNamespace, versionIds: string[]): Promise<number> {
  let deleted = 0;
  for (const versionId of versionIds) {
    let cursor: string | undefined;
    do {
      const page = await kv.list({ prefix: `pred:${versionId}:`, cursor });
      for (const { name } of page.keys) {
        if (deleted >= MAX_CACHE_DELETES) return deleted;
        await kv.delete(name);
        deleted += 1;
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
  }
  return deleted;
}
