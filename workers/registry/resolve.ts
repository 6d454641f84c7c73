import { and, eq, sql, type SQL } from 'drizzle-orm';
import { alias as aliased } from 'drizzle-orm/sqlite-core';
import { modelAliasRoutes, modelAliases, models, modelVersions } from '../storage/schema';
import type { ModelRow, RegistryDeps, Scope, VersionRow } from './types';

/*
 * What a serving request names, found with one query: the model, and the version its reference
 * points at (a number, `latest`, an alias, or nothing: the `production` alias, else latest),
 * with the alias's routes and shadow when it splits its traffic. Misses are values: serving
 * turns them into its errors, readiness into its own.
 */

/** The alias a request without a version means, when the model has it; else `latest`. */
export const DEFAULT_ALIAS = 'production';

/** An alias that splits its traffic: its routes in order, and the version it mirrors to. */
export interface ResolvedSplit {
  alias: string;
  /** Whether a guard or steps watch it (so fresh counts should be judged soon). */
  watched: boolean;
  routes: { index: number; version: VersionRow; weight: number }[];
  shadow?: { version: VersionRow; percent: number };
}

export type Resolution =
  | { found: true; model: ModelRow; version: VersionRow; split?: ResolvedSplit }
  | { found: false; miss: 'model' | 'model_archived' }
  | { found: false; miss: 'version'; model: ModelRow }
  | { found: false; miss: 'version_archived'; model: ModelRow; version: VersionRow };

const latest = sql`(select lv.id from model_versions lv
  where lv.model_id = ${models.id} and lv.archived_at is null order by lv.version desc limit 1)`;

/** The alias a reference names: none for a number or `latest`. */
const aliasOf = (ref: string | undefined): string | null =>
  ref === undefined ? DEFAULT_ALIAS : ref === 'latest' || /^\d+$/.test(ref) ? null : ref;

function numberedOrLatest(ref: string): SQL {
  if (ref === 'latest') return latest;
  return sql`(select nv.id from model_versions nv where nv.model_id = ${models.id} and nv.version = ${Number(ref)})`;
}

export function resolveReference(
  deps: Pick<RegistryDeps, 'db'>,
  scope: Pick<Scope, 'workspaceId'>,
  name: string,
  ref: string | undefined,
): Promise<Resolution> {
  return resolveIn(deps, scope.workspaceId, name, ref);
}

const a = aliased(modelAliases, 'a');
const r = aliased(modelAliasRoutes, 'r');

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
  const aliasName = aliasOf(ref);
  const inModel = and(eq(models.workspaceId, workspaceId), eq(models.name, name));
  if (aliasName === null) {
    const [row] = await deps.db
      .select({ model: models, version: modelVersions })
      .from(models)
      .leftJoin(modelVersions, eq(modelVersions.id, numberedOrLatest(ref!)))
      .where(inModel);
    return row ? judge(row.model, row.version) : { found: false, miss: 'model' };
  }
  // One row per route and shadow of a split alias; one row otherwise.
  const target = ref === undefined ? sql`coalesce(${a.versionId}, ${latest})` : sql`${a.versionId}`;
  const rows = await deps.db
    .select({
      model: models,
      version: modelVersions,
      kind: r.kind,
      position: r.position,
      share: r.share,
      watched: sql<number>`(${a.guard} is not null or ${a.steps} is not null) and ${a.rolledBackAt} is null`,
    })
    .from(models)
    .leftJoin(a, and(eq(a.modelId, models.id), eq(a.alias, aliasName)))
    .leftJoin(r, and(eq(r.modelId, a.modelId), eq(r.alias, a.alias)))
    .leftJoin(modelVersions, eq(modelVersions.id, sql`coalesce(${r.versionId}, ${target})`))
    .where(inModel);
  const first = rows[0];
  if (!first) return { found: false, miss: 'model' };
  if (first.kind === null) return judge(first.model, first.version);
  const live = (v: VersionRow | null): v is VersionRow => v !== null && v.archivedAt === null;
  const routes = rows
    .filter((row) => row.kind === 'route')
    .sort((x, y) => x.position! - y.position!)
    .map((row) => ({ index: row.position!, version: row.version, weight: row.share! }));
  const primary = routes.find((route) => route.index === 0)?.version ?? null;
  const resolution = judge(first.model, primary);
  if (!resolution.found) return resolution;
  // Versions behind an alias cannot be archived; one that was anyway serves nothing.
  const shadow = rows.find((row) => row.kind === 'shadow');
  resolution.split = {
    alias: aliasName,
    watched: Boolean(first.watched),
    routes: routes.filter((route) => live(route.version)) as ResolvedSplit['routes'],
    ...(shadow && live(shadow.version) ? { shadow: { version: shadow.version, percent: shadow.share! } } : {}),
  };
  return resolution;
}

function judge(model: ModelRow, version: VersionRow | null): Resolution {
  if (model.archivedAt !== null) return { found: false, miss: 'model_archived' };
  if (!version) return { found: false, miss: 'version', model };
  if (version.archivedAt !== null) return { found: false, miss: 'version_archived', model, version };
  return { found: true, model, version };
}
