import { and, eq, isNull, sql } from 'drizzle-orm';
import { conflict, notFound } from '../core/errors';
import { modelAliases, modelVersions } from '../storage/schema';
import { requireModel } from './models';
import { resolveVersion } from './versions';
import type { RegistryDeps, Scope } from './types';

export interface AliasChange {
  alias: string;
  /** The version the alias points at now; null once deleted. */
  version: number | null;
  previousVersion: number | null;
}

async function currentTarget(deps: RegistryDeps, modelId: string, alias: string): Promise<number | null> {
  const [row] = await deps.db
    .select({ version: modelVersions.version })
    .from(modelAliases)
    .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.versionId))
    .where(and(eq(modelAliases.modelId, modelId), eq(modelAliases.alias, alias)));
  return row?.version ?? null;
}

/**
 * Points an alias at a version, creating or moving it. Archived versions cannot be targets: the
 * write itself re-checks that (and that the version still exists), so an archive or a purge
 * racing this call refuses one side instead of leaving an alias on a version nobody serves.
 */
export async function setAlias(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  alias: string,
  version: number,
): Promise<AliasChange> {
  const model = await requireModel(deps, scope, name, { allowArchived: false });
  const target = await resolveVersion(deps, model, String(version));
  if (target.archivedAt !== null) {
    throw conflict(`alias '${alias}' cannot point at version ${version}: it is archived`, { code: 'version_archived' });
  }
  const previousVersion = await currentTarget(deps, model.id, alias);
  const now = Date.now();
  const constant = <T>(value: T, as: string) => sql<T>`${value}`.as(as);
  const written = await deps.db
    .insert(modelAliases)
    .select(
      deps.db
        .select({
          modelId: modelVersions.modelId,
          alias: constant(alias, 'alias'),
          versionId: modelVersions.id,
          updatedBy: constant(scope.actorId, 'updated_by'),
          updatedAt: constant(now, 'updated_at'),
        })
        .from(modelVersions)
        .where(and(eq(modelVersions.id, target.id), isNull(modelVersions.archivedAt))),
    )
    .onConflictDoUpdate({
      target: [modelAliases.modelId, modelAliases.alias],
      set: { versionId: target.id, updatedBy: scope.actorId, updatedAt: now },
    })
    .returning({ versionId: modelAliases.versionId });
  if (written.length === 0) {
    // Archived or purged since it was read: say which, as a call made a moment later would.
    const again = await resolveVersion(deps, await requireModel(deps, scope, name), String(version));
    if (again.archivedAt !== null) {
      throw conflict(`alias '${alias}' cannot point at version ${version}: it is archived`, {
        code: 'version_archived',
      });
    }
    throw conflict(`version ${version} of model '${name}' changed while the alias was being set; try again`);
  }
  deps.changes.modelChanged(scope.workspaceId, name);
  return { alias, version: target.version, previousVersion };
}

export async function deleteAlias(deps: RegistryDeps, scope: Scope, name: string, alias: string): Promise<AliasChange> {
  const model = await requireModel(deps, scope, name);
  const previousVersion = await currentTarget(deps, model.id, alias);
  if (previousVersion === null) throw notFound(`model '${name}' has no alias '${alias}'`, { code: 'alias_not_found' });
  await deps.db.delete(modelAliases).where(and(eq(modelAliases.modelId, model.id), eq(modelAliases.alias, alias)));
  deps.changes.modelChanged(scope.workspaceId, name);
  return { alias, version: null, previousVersion };
}
