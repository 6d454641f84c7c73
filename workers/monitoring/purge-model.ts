import { eq } from 'drizzle-orm';
import { requireModel } from '../registry/models';
import { purgeModel } from '../registry/purge';
import type { RegistryDeps, Scope } from '../registry/types';
import { predictionExportPrefix } from '../storage/r2-keys';
import { modelVersions } from '../storage/schema';
import { forgetModelMonitoring, type ForgetDeps, type ForgottenCounts } from './forget-model';
import { deleteRouteCounts, type RouteMetrics } from './route-metrics';

export interface PurgeDeps extends RegistryDeps, ForgetDeps {
  kv: KVNamespace;
  routeMetrics: RouteMetrics;
}

/** Cached predictions deleted per purge: KV allows about a thousand operations per invocation. */
export const MAX_CACHE_DELETES = 500;

/**
 * Deletes a model for good: its versions, aliases and files (registry/purge.ts), and everything
 * monitoring and the prediction cache kept about it, so old prediction ids answer 404 and a
 * model created again under the name starts empty. Monitoring data goes first, while the model
 * still exists: if that fails, the purge can be asked again. Then the registry rows, then a
 * second monitoring pass catches what requests served meanwhile wrote.
 */
export async function purgeModelAndData(
  deps: PurgeDeps,
  scope: Scope,
  name: string,
): Promise<{ versions: number; bytes: number; cachedPredictions: number; exportFiles: number } & ForgottenCounts> {
  const model = await requireModel(deps, scope, name);
  const known = await deps.db
    .select({ id: modelVersions.id })
    .from(modelVersions)
    .where(eq(modelVersions.modelId, model.id));
  const forgotten = await forgetModelMonitoring(
    deps,
    model,
    known.map((v) => v.id),
  );
  const exportFiles = await deleteExports(deps.bucket, scope.workspaceId, name);
  const { versionIds, bytes } = await purgeModel(deps, scope, name);
  const late = await forgetModelMonitoring(deps, model, versionIds);
  // What split aliases counted goes too (keyed by the model's name, which may be taken again).
  deps.routeMetrics.forgetModel(model.workspaceId, model.name);
  await deleteRouteCounts(deps.db, model.workspaceId, model.name);
  const cachedPredictions = await deleteCachedPredictions(deps.kv, versionIds);
  return {
    versions: versionIds.length,
    bytes,
    cachedPredictions,
    predictions: forgotten.predictions + late.predictions,
    feedback: forgotten.feedback + late.feedback,
    metricRows: forgotten.metricRows + late.metricRows,
    driftRows: forgotten.driftRows + late.driftRows,
    alertRows: forgotten.alertRows + late.alertRows,
    failedRequests: forgotten.failedRequests + late.failedRequests,
    exportFiles,
  };
}

/**
 * Deletes the versions' cached predictions (`pred:<version id>:…`) from KV, up to
 * MAX_CACHE_DELETES. Whatever is left, and copies in isolates' memory tiers and locations'
 * Cache API, can no longer be read: the keys name version ids, which are never reused, so no
 * model created later can hit them, and they expire with the model's cache TTL.
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

/** The model's daily prediction exports (export/daily.ts): its logs are gone, so are they. */
async function deleteExports(bucket: R2Bucket, workspaceId: string, model: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: predictionExportPrefix(workspaceId, model), cursor });
    if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
    deleted += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}
