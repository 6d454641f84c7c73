import { and, eq, isNull, or, isNotNull } from 'drizzle-orm';
import { recordAudit, type AuditEvent } from '../audit/audit-log';
import { afterCommit } from '../core/after-commit';
import type { Config } from '../core/config';
import { errorFields } from '../core/logger';
import type { WatchedAlias } from '../monitoring/route-metrics';
import { promoteRoute, rollBackRoutes, stepRoutes } from '../registry/alias-rollouts';
import { readAlias, type AliasState } from '../registry/aliases';
import { findModel } from '../registry/models';
import type { ModelRow } from '../registry/types';
import { modelAliases, models, type AliasRollback, type WebhookEvent } from '../storage/schema';
import { emitEvent, type EventDeps } from '../webhooks/events';
import { breaches, DEFAULT_GUARD_WINDOW_MINUTES, judged } from './guard';
import { scorecard, type Scorecard } from './scorecard';
import { scorecardJson } from './scorecard-json';
import { nextStep, weightsAtStep } from './steps';

/*
 * The rollout check: for an alias with a guard or steps, judge the scorecard over the guard's
 * window and act — back to the first route on a breach, else the next step once it is due.
 * It runs on the cron trigger (every minute) and after an isolate writes the counts of a
 * watched alias. Whatever it changes is announced (`alias.rolled_back`, `alias.promoted`) and
 * recorded in the audit log, as a person's change through the API is.
 */

/** The cron trigger (wrangler.toml) that judges rollouts every minute; the other does every chore. */
export const ROLLOUT_CRON = '* * * * *';

export interface RolloutDeps extends EventDeps {
  config: Config;
  defer: (work: Promise<unknown>) => void;
}

/** Who made a rollout change: the platform itself, or the caller of promote / rollback. */
export interface Actor {
  kind: 'system' | 'admin' | 'user' | 'api_key';
  id: string;
}

export const SYSTEM: Actor = { kind: 'system', id: 'rollouts' };

export type Verdict = 'rolled_back' | 'stepped' | 'promoted' | 'held' | 'skipped';

const target = (state: Pick<AliasState, 'model' | 'alias'>) => `model:${state.model}/alias:${state.alias}`;
const routesJson = (state: AliasState) => (state.routes ?? []).map((r) => ({ version: r.version, weight: r.weight }));

/** The event and the audit entry of a change the check (or a person) made: never lost, never raised. */
async function record(
  deps: RolloutDeps,
  model: ModelRow,
  actor: Actor,
  requestId: string,
  event: { type: WebhookEvent; data: Record<string, unknown> } | null,
  audit: AuditEvent,
): Promise<void> {
  if (event) {
    await afterCommit(deps, `webhook event ${event.type}`, () =>
      emitEvent(deps, model.workspaceId, event.type, event.data),
    );
  }
  await afterCommit(deps, `audit entry ${audit.action}`, () =>
    recordAudit(deps.db, { ...actor, workspaceId: model.workspaceId }, requestId, audit),
  );
}

/** The window the guard judges: its own length, never before the routes were set. */
export function guardWindowStart(state: AliasState, now: number): number {
  const minutes = state.guard?.window_minutes ?? DEFAULT_GUARD_WINDOW_MINUTES;
  return Math.max(state.splitAt ?? 0, now - minutes * 60000);
}

/** Everything back on the first route. False when the alias changed since it was read. */
export async function rollBackAlias(
  deps: RolloutDeps,
  model: ModelRow,
  state: AliasState,
  rollback: AliasRollback,
  card: Scorecard,
  actor: Actor,
  requestId: string,
  now = Date.now(),
): Promise<boolean> {
  const applied = await rollBackRoutes(deps, model.workspaceId, state, rollback, actor.id, now);
  if (!applied) return false;
  const data = {
    model: model.name,
    alias: state.alias,
    version: state.version,
    by: rollback.by,
    breaches: rollback.breaches,
    routes: routesJson(state),
    scorecard: scorecardJson(card),
  };
  await record(
    deps,
    model,
    actor,
    requestId,
    { type: 'alias.rolled_back', data },
    {
      action: 'alias.rolled_back',
      target: target(state),
      details: { by: rollback.by, breaches: rollback.breaches, routes: routesJson(state) },
    },
  );
  deps.logger.warn('alias rolled back', { model: model.name, alias: state.alias, by: rollback.by });
  return true;
}

/** A plain alias on one route's version. False when the alias changed since it was read. */
export async function promoteAlias(
  deps: RolloutDeps,
  model: ModelRow,
  state: AliasState,
  route: { version: number; versionId: string },
  by: 'steps' | 'hand',
  actor: Actor,
  requestId: string,
  now = Date.now(),
): Promise<boolean> {
  const applied = await promoteRoute(deps, model.workspaceId, state, route.versionId, actor.id, now);
  if (!applied) return false;
  const data = { model: model.name, alias: state.alias, version: route.version, by, routes: routesJson(state) };
  await record(
    deps,
    model,
    actor,
    requestId,
    { type: 'alias.promoted', data },
    {
      action: 'alias.promoted',
      target: target(state),
      details: { version: route.version, by, routes: routesJson(state) },
    },
  );
  if (route.version !== state.version) {
    const moved = { model: model.name, alias: state.alias, version: route.version, previous_version: state.version };
    await afterCommit(deps, 'webhook event alias.moved', () =>
      emitEvent(deps, model.workspaceId, 'alias.moved', moved),
    );
  }
  return true;
}

/** Judges one alias now: rolls it back, steps it, promotes it, or leaves it as it is. */
export async function judgeRollout(
  deps: RolloutDeps,
  model: ModelRow,
  alias: string,
  requestId: string,
  now = Date.now(),
): Promise<Verdict> {
  const state = await readAlias(deps, model, alias);
  if (!state?.routes || state.rolledBackAt !== null || (!state.guard && !state.steps)) return 'skipped';
  const card = await scorecard(deps.db, model, state, guardWindowStart(state, now), now);
  if (state.guard) {
    const found = breaches(card, state.guard);
    if (found.length > 0) {
      const done = await rollBackAlias(
        deps,
        model,
        state,
        { by: 'guard', breaches: found },
        card,
        SYSTEM,
        requestId,
        now,
      );
      return done ? 'rolled_back' : 'held';
    }
  }
  if (!state.steps || !state.stepMinutes) return 'held';
  const weights = state.routes.map((r) => r.weight);
  const step = nextStep(state.steps, weights[weights.length - 1]!);
  if (step === undefined || now < (state.weightsAt ?? 0) + state.stepMinutes * 60000) return 'held';
  // The guard must have seen enough of every route taking traffic before more goes its way.
  if (state.guard && !judged(card, state.guard)) return 'held';
  if (step >= 100) {
    const last = state.routes[state.routes.length - 1]!;
    return (await promoteAlias(deps, model, state, last, 'steps', SYSTEM, requestId, now)) ? 'promoted' : 'held';
  }
  const next = weightsAtStep(weights, step);
  if (!(await stepRoutes(deps, model.workspaceId, state, next, SYSTEM.id, now))) return 'held';
  await record(deps, model, SYSTEM, requestId, null, {
    action: 'alias.stepped',
    target: target(state),
    details: { from: routesJson(state), to: state.routes.map((r, i) => ({ version: r.version, weight: next[i] })) },
  });
  return 'stepped';
}

async function judgeSafely(
  deps: RolloutDeps,
  model: ModelRow,
  alias: string,
  requestId: string,
  now: number,
): Promise<Verdict> {
  try {
    return await judgeRollout(deps, model, alias, requestId, now);
  } catch (err) {
    deps.logger.error('rollout check failed', { model: model.name, alias, ...errorFields(err) });
    return 'skipped';
  }
}

/** The aliases an isolate just wrote counts for (metrics flush). */
export async function judgeWatched(deps: RolloutDeps, aliases: WatchedAlias[], requestId: string): Promise<void> {
  for (const a of aliases) {
    const model = await findModel(deps, { workspaceId: a.workspaceId, actorId: SYSTEM.id }, a.model);
    if (model && model.archivedAt === null) await judgeSafely(deps, model, a.alias, requestId, Date.now());
  }
}

/** Every alias with a guard or steps that has not been rolled back: what the cron trigger runs. */
export async function judgeAllRollouts(deps: RolloutDeps, now = Date.now()): Promise<Record<string, Verdict>> {
  const rows = await deps.db
    .select({ model: models, alias: modelAliases.alias })
    .from(modelAliases)
    .innerJoin(models, eq(models.id, modelAliases.modelId))
    .where(
      and(
        or(isNotNull(modelAliases.guard), isNotNull(modelAliases.steps)),
        isNull(modelAliases.rolledBackAt),
        isNull(models.archivedAt),
      ),
    );
  const verdicts: Record<string, Verdict> = {};
  for (const { model, alias } of rows) {
    verdicts[`${model.workspaceId}/${model.name}/${alias}`] = await judgeSafely(
      deps,
      model,
      alias,
      `cron:${new Date(now).toISOString()}`,
      now,
    );
  }
  return verdicts;
}
