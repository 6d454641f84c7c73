import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { conflict, notFound } from '../core/errors';
import { modelAliasRoutes, modelAliases, modelVersions, type AliasGuard, type AliasRollback } from '../storage/schema';
import { requireModel } from './models';
import type { ModelRow, RegistryDeps, Scope, VersionRow } from './types';

/*
 * Aliases: a name that points at one version, or splits its traffic between 2 to 5 versions
 * (routes, weights summing to 100), optionally mirrors a share of requests to a shadow
 * version, and may carry a guard and steps that the rollout check applies (rollouts/).
 */

export interface RouteSpec {
  version: number;
  weight: number;
}

export interface ShadowSpec {
  version: number;
  percent: number;
}

/** What an alias is set to; the HTTP layer has checked its shape (2-5 routes, weights, steps). */
export interface AliasSpec {
  /** One route (weight 100) for a plain alias. */
  routes: RouteSpec[];
  shadow?: ShadowSpec | null;
  guard?: AliasGuard | null;
  steps?: number[] | null;
  stepMinutes?: number | null;
}

/** An alias as it stands. */
export interface AliasState {
  modelId: string;
  model: string;
  alias: string;
  /** The version a single-version reader gets (batch jobs, metadata): the first route's. */
  version: number;
  versionId: string;
  /** Null for a plain alias. */
  routes: (RouteSpec & { versionId: string })[] | null;
  shadow: ShadowSpec | null;
  guard: AliasGuard | null;
  steps: number[] | null;
  stepMinutes: number | null;
  revision: number;
  splitAt: number | null;
  weightsAt: number | null;
  rolledBackAt: number | null;
  rollback: AliasRollback | null;
  updatedBy: string;
  updatedAt: number;
}

export interface AliasChange {
  alias: string;
  /** The version the alias points at now (its first route's); null once deleted. */
  version: number | null;
  previousVersion: number | null;
}

/** The alias's state, or undefined when the model has no such alias. */
export async function readAlias(
  deps: Pick<RegistryDeps, 'db'>,
  model: Pick<ModelRow, 'id' | 'name'>,
  alias: string,
): Promise<AliasState | undefined> {
  const [[row], routes] = await deps.db.batch([
    deps.db
      .select({ alias: modelAliases, version: modelVersions.version })
      .from(modelAliases)
      .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.versionId))
      .where(and(eq(modelAliases.modelId, model.id), eq(modelAliases.alias, alias))),
    deps.db
      .select({
        kind: modelAliasRoutes.kind,
        position: modelAliasRoutes.position,
        share: modelAliasRoutes.share,
        version: modelVersions.version,
        versionId: modelVersions.id,
      })
      .from(modelAliasRoutes)
      .innerJoin(modelVersions, eq(modelVersions.id, modelAliasRoutes.versionId))
      .where(and(eq(modelAliasRoutes.modelId, model.id), eq(modelAliasRoutes.alias, alias)))
      .orderBy(asc(modelAliasRoutes.kind), asc(modelAliasRoutes.position)),
  ]);
  if (!row) return undefined;
  const a = row.alias;
  const routeRows = routes.filter((r) => r.kind === 'route');
  const shadow = routes.find((r) => r.kind === 'shadow');
  return {
    modelId: model.id,
    model: model.name,
    alias,
    version: row.version,
    versionId: a.versionId,
    routes:
      routeRows.length > 1
        ? routeRows.map((r) => ({ version: r.version, weight: r.share, versionId: r.versionId }))
        : null,
    shadow: shadow ? { version: shadow.version, percent: shadow.share } : null,
    guard: a.guard,
    steps: a.steps,
    stepMinutes: a.stepMinutes,
    revision: a.revision,
    splitAt: a.splitAt,
    weightsAt: a.weightsAt,
    rolledBackAt: a.rolledBackAt,
    rollback: a.rollback,
    updatedBy: a.updatedBy,
    updatedAt: a.updatedAt,
  };
}

export async function getAlias(deps: RegistryDeps, scope: Scope, name: string, alias: string): Promise<AliasState> {
  const model = await requireModel(deps, scope, name);
  const state = await readAlias(deps, model, alias);
  if (!state) throw notFound(`model '${name}' has no alias '${alias}'`, { code: 'alias_not_found' });
  return state;
}

/** The versions a spec names, each checked: it exists in this model and is not archived. */
async function targets(
  deps: RegistryDeps,
  model: ModelRow,
  alias: string,
  spec: AliasSpec,
): Promise<Map<number, VersionRow>> {
  const numbers = [...spec.routes.map((r) => r.version), ...(spec.shadow ? [spec.shadow.version] : [])];
  const rows = await deps.db
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.modelId, model.id), inArray(modelVersions.version, numbers)));
  const found = new Map(rows.map((r) => [r.version, r]));
  for (const n of numbers) {
    const row = found.get(n);
    if (!row) throw notFound(`model '${model.name}' has no version ${n}`, { code: 'version_not_found' });
    if (row.archivedAt !== null) throw archivedTarget(alias, spec, n);
  }
  return found;
}

function archivedTarget(alias: string, spec: AliasSpec, version: number) {
  const role =
    spec.shadow?.version === version ? 'mirror to' : spec.routes.length > 1 ? 'route traffic to' : 'point at';
  return conflict(`alias '${alias}' cannot ${role} version ${version}: it is archived`, { code: 'version_archived' });
}

/** A NOT NULL column given NULL: a subquery found no live version (archived since it was read). */
const isNotNullViolation = (err: unknown) =>
  String(err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : err).includes(
    'NOT NULL constraint failed',
  );

/**
 * Sets an alias: creates it, moves it, or replaces its routes, shadow, guard and steps, in one
 * D1 batch. Every target is re-checked inside the write (a version archived a moment before
 * makes a subquery yield NULL into a NOT NULL column, which undoes the whole batch), so an
 * archive racing this call refuses one side instead of leaving an alias on a version nobody
 * serves.
 */
export async function setAlias(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  alias: string,
  spec: AliasSpec,
): Promise<{ state: AliasState; previous: AliasState | undefined }> {
  const model = await requireModel(deps, scope, name, { allowArchived: false });
  const versions = await targets(deps, model, alias, spec);
  const previous = await readAlias(deps, model, alias);
  const now = Date.now();
  const split = spec.routes.length > 1;
  const live = (version: number) =>
    sql`(select id from model_versions where id = ${versions.get(version)!.id} and archived_at is null)`;
  const rollout = {
    guard: spec.guard ?? null,
    steps: spec.steps ?? null,
    stepMinutes: spec.stepMinutes ?? null,
    splitAt: split ? now : null,
    weightsAt: split ? now : null,
    rolledBackAt: null,
    rollback: null,
  };
  const routeRows = [
    ...(split || spec.shadow
      ? spec.routes.map((r, position) => ({ kind: 'route' as const, position, version: r.version, share: r.weight }))
      : []),
    ...(spec.shadow
      ? [{ kind: 'shadow' as const, position: 0, version: spec.shadow.version, share: spec.shadow.percent }]
      : []),
  ];
  try {
    await deps.db.batch([
      deps.db
        .insert(modelAliases)
        .values({
          modelId: model.id,
          alias,
          versionId: live(spec.routes[0]!.version),
          updatedBy: scope.actorId,
          updatedAt: now,
          revision: 1,
          ...rollout,
        })
        .onConflictDoUpdate({
          target: [modelAliases.modelId, modelAliases.alias],
          set: {
            versionId: sql`excluded.version_id`,
            updatedBy: scope.actorId,
            updatedAt: now,
            revision: sql`${modelAliases.revision} + 1`,
            ...rollout,
          },
        }),
      deps.db
        .delete(modelAliasRoutes)
        .where(and(eq(modelAliasRoutes.modelId, model.id), eq(modelAliasRoutes.alias, alias))),
      ...routeRows.map((r) =>
        deps.db.insert(modelAliasRoutes).values({
          modelId: model.id,
          alias,
          kind: r.kind,
          position: r.position,
          versionId: live(r.version),
          share: r.share,
        }),
      ),
    ]);
  } catch (err) {
    if (!isNotNullViolation(err)) throw err;
    // Archived since it was read: say which, as a call made a moment later would.
    await targets(deps, model, alias, spec);
    throw conflict(`a version of model '${name}' changed while the alias was being set; try again`);
  }
  deps.changes.modelChanged(scope.workspaceId, name);
  const state = await readAlias(deps, model, alias);
  return { state: state!, previous };
}

export async function deleteAlias(deps: RegistryDeps, scope: Scope, name: string, alias: string): Promise<AliasChange> {
  const model = await requireModel(deps, scope, name);
  const previous = await readAlias(deps, model, alias);
  if (!previous) throw notFound(`model '${name}' has no alias '${alias}'`, { code: 'alias_not_found' });
  await deps.db.batch([
    deps.db
      .delete(modelAliasRoutes)
      .where(and(eq(modelAliasRoutes.modelId, model.id), eq(modelAliasRoutes.alias, alias))),
    deps.db.delete(modelAliases).where(and(eq(modelAliases.modelId, model.id), eq(modelAliases.alias, alias))),
  ]);
  deps.changes.modelChanged(scope.workspaceId, name);
  return { alias, version: null, previousVersion: previous.version };
}
