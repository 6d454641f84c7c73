import { eq } from 'drizzle-orm';
import { modelAliasRoutes, modelAliases, models, modelVersions } from '../storage/schema';
import { versionFiles } from './artifacts';
import { requireModel } from './models';
import type { RegistryDeps, Scope } from './types';

/**
 * Deletes a model, its versions, aliases and files for good. Rows go first, in one batch, so
 * a failure part-way leaves at worst unreferenced R2 objects, never rows pointing at nothing.
 */
export async function purgeModel(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
): Promise<{ versionIds: string[]; bytes: number }> {
  const model = await requireModel(deps, scope, name);
  // The files to delete are read in the same batch as the rows: a version uploaded a moment
  // before is then either in both or in neither, never deleted with its file left in R2.
  const [versions] = await deps.db.batch([
    deps.db
      .select({
        id: modelVersions.id,
        key: modelVersions.artifactKey,
        serving: modelVersions.serving,
        size: modelVersions.sizeBytes,
      })
      .from(modelVersions)
      .where(eq(modelVersions.modelId, model.id)),
    deps.db.delete(modelAliasRoutes).where(eq(modelAliasRoutes.modelId, model.id)),
    deps.db.delete(modelAliases).where(eq(modelAliases.modelId, model.id)),
    deps.db.delete(modelVersions).where(eq(modelVersions.modelId, model.id)),
    deps.db.delete(models).where(eq(models.id, model.id)),
  ]);
  deps.changes.modelChanged(scope.workspaceId, name);
  const keys = versions.flatMap((v) => versionFiles(v));
  for (let i = 0; i < keys.length; i += 1000) await deps.bucket.delete(keys.slice(i, i + 1000));
  return { versionIds: versions.map((v) => v.id), bytes: versions.reduce((sum, v) => sum + v.size, 0) };
}
