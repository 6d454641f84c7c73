import { and, eq, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { modelAliasRoutes, modelAliases, type AliasRollback } from '../storage/schema';
import type { AliasState } from './aliases';
import type { RegistryDeps } from './types';

/*
 * The changes a rollout makes to a split alias: a step (new weights), a rollback (everything
 * back on the first route) and a promotion (a plain alias on one route's version). Each applies
 * only to the alias as it was judged: the write names the revision it read, and a change made
 * meanwhile (a person setting new routes, another isolate's check) wins; the caller is told.
 */

type Judged = Pick<AliasState, 'modelId' | 'model' | 'alias' | 'revision'>;

export interface RolloutWriteDeps {
  db: RegistryDeps['db'];
  changes: RegistryDeps['changes'];
}

const sameAlias = (a: Judged) => and(eq(modelAliasRoutes.modelId, a.modelId), eq(modelAliasRoutes.alias, a.alias));
const aliasRow = (a: Judged) => and(eq(modelAliases.modelId, a.modelId), eq(modelAliases.alias, a.alias));
/** True while the alias is still at the revision that was judged. */
const unchanged = (a: Judged) =>
  sql`exists (select 1 from ${modelAliases} where ${aliasRow(a)} and ${modelAliases.revision} = ${a.revision})`;

/** Runs `routeChange` and bumps the revision, both only if the alias is still as judged. */
async function whileUnchanged(
  deps: RolloutWriteDeps,
  workspaceId: string,
  judged: Judged,
  routeChange: BatchItem<'sqlite'>,
  aliasChange: Partial<typeof modelAliases.$inferInsert>,
  actorId: string,
  now: number,
): Promise<boolean> {
  const bump = deps.db
    .update(modelAliases)
    .set({ ...aliasChange, revision: sql`${modelAliases.revision} + 1`, updatedBy: actorId, updatedAt: now })
    .where(and(aliasRow(judged), eq(modelAliases.revision, judged.revision)))
    .returning({ revision: modelAliases.revision });
  // The route change goes first: it still sees the revision the bump is about to move on.
  const [, bumped] = await deps.db.batch([routeChange, bump]);
  const applied = bumped.length === 1;
  if (applied) deps.changes.modelChanged(workspaceId, judged.model);
  return applied;
}

/** New weights for the routes (in route order); the next step counts from `now`. */
export function stepRoutes(
  deps: RolloutWriteDeps,
  workspaceId: string,
  judged: Judged,
  weights: number[],
  actorId: string,
  now = Date.now(),
): Promise<boolean> {
  const share = sql`case ${modelAliasRoutes.position} ${sql.join(
    weights.map((w, i) => sql`when ${i} then ${w}`),
    sql` `,
  )} else ${modelAliasRoutes.share} end`;
  const update = deps.db
    .update(modelAliasRoutes)
    .set({ share })
    .where(and(sameAlias(judged), eq(modelAliasRoutes.kind, 'route'), unchanged(judged)));
  return whileUnchanged(deps, workspaceId, judged, update, { weightsAt: now }, actorId, now);
}

/** Everything back on the first route: its weight 100, the others 0; steps stop. */
export function rollBackRoutes(
  deps: RolloutWriteDeps,
  workspaceId: string,
  judged: Judged,
  rollback: AliasRollback,
  actorId: string,
  now = Date.now(),
): Promise<boolean> {
  const update = deps.db
    .update(modelAliasRoutes)
    .set({ share: sql`case ${modelAliasRoutes.position} when 0 then 100 else 0 end` })
    .where(and(sameAlias(judged), eq(modelAliasRoutes.kind, 'route'), unchanged(judged)));
  return whileUnchanged(
    deps,
    workspaceId,
    judged,
    update,
    { rolledBackAt: now, rollback, weightsAt: now },
    actorId,
    now,
  );
}

/** A plain alias on one route's version: routes, shadow, guard and steps are gone. */
export function promoteRoute(
  deps: RolloutWriteDeps,
  workspaceId: string,
  judged: Judged,
  versionId: string,
  actorId: string,
  now = Date.now(),
): Promise<boolean> {
  const remove = deps.db.delete(modelAliasRoutes).where(and(sameAlias(judged), unchanged(judged)));
  return whileUnchanged(
    deps,
    workspaceId,
    judged,
    remove,
    {
      versionId,
      guard: null,
      steps: null,
      stepMinutes: null,
      splitAt: null,
      weightsAt: null,
      rolledBackAt: null,
      rollback: null,
    },
    actorId,
    now,
  );
}
