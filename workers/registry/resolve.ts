import { and, eq, sql, type SQL } from 'drizzle-orm';
import { models, modelVersions } from '../storage/schema';
import type { ModelRow, RegistryDeps, Scope, VersionRow } from './types';

/*
 * What a serving request names, found with one query: the model, and the version its reference
 * points at (a number, `latest`, an alias, or nothing: the `production` alias, else latest).
 * Misses are values: serving turns them into its errors, readiness into its own.
 */

/** The alias a request without a version means, when the model has it; else `latest`. */
export const DEFAULT_ALIAS = 'production';

export type Resolution =
  | { found: true; model: ModelRow; version: VersionRow }
  | { found: false; miss: 'model' | 'model_archived' }
  | { found: false; miss: 'version'; model: ModelRow }
  | { found: false; miss: 'version_archived'; model: ModelRow; version: VersionRow };

const latest = sql`(select lv.id from model_versions lv
  where lv.model_id = ${models.id} and lv.archived_at is null order by lv.version desc limit 1)`;
const alias = (name: string) =>
  sql`(select a.version_id from model_aliases a where a.model_id = ${models.id} and a.alias = ${name})`;

function versionIdOf(ref: string | undefined): SQL {
  if (ref === undefined) return sql`coalesce(${alias(DEFAULT_ALIAS)}, ${latest})`;
  if (ref === 'latest') return latest;
  if (/^\d+$/.test(ref)) {
    return sql`(select nv.id from model_versions nv where nv.model_id = ${models.id} and nv.version = ${Number(ref)})`;
  }
  return alias(ref);
}

export function resolveReference(
  deps: Pick<RegistryDeps, 'db'>,
  scope: Pick<Scope, 'workspaceId'>,
  name: string,
  ref: string | undefined,
): Promise<Resolution> {
  return resolveIn(deps, scope.workspaceId, name, ref);
}

/**
 * The same, in a workspace given by id or by a subquery that yields one: serving can look a
 * model up before it knows the workspace (see inference/look-ahead.ts).
 */
export async function resolveIn(
  deps: Pick<RegistryDeps, 'db'>,
  workspaceId: string | SQL,
  name: string,
  ref: string | undefined,
): Promise<Resolution> {
  const [row] = await deps.db
    .select({ model: models, version: modelVersions })
    .from(models)
    .leftJoin(modelVersions, eq(modelVersions.id, versionIdOf(ref)))
    .where(and(eq(models.workspaceId, workspaceId), eq(models.name, name)));
  if (!row) return { found: false, miss: 'model' };
  const { model, version } = row;
  if (model.archivedAt !== null) return { found: false, miss: 'model_archived' };
  if (!version) return { found: false, miss: 'version', model };
  if (version.archivedAt !== null) return { found: false, miss: 'version_archived', model, version };
  return { found: true, model, version };
}
