import type { z } from '@hono/zod-openapi';
import type { AliasState } from '../../registry/aliases';
import type { AliasSeries } from '../../rollouts/series';
import { nextStep } from '../../rollouts/steps';
import { iso } from '../schemas/common';
import type { AliasSeriesView, AliasView } from '../schemas/rollouts';
import { presentPoint } from './monitoring';

/** Weights after a step of a 3+ route split can be fractions; two decimals say enough. */
const weight = (w: number) => Math.round(w * 100) / 100;

function status(state: AliasState, next: number | undefined): 'plain' | 'split' | 'ramping' | 'rolled_back' {
  if (!state.routes) return 'plain';
  if (state.rolledBackAt !== null) return 'rolled_back';
  return next === undefined ? 'split' : 'ramping';
}

export function presentAlias(state: AliasState): z.infer<typeof AliasView> {
  const routes = state.routes;
  const next =
    routes && state.steps && state.rolledBackAt === null
      ? nextStep(state.steps, routes[routes.length - 1]!.weight)
      : undefined;
  const nextAt =
    next !== undefined && state.weightsAt !== null && state.stepMinutes !== null
      ? state.weightsAt + state.stepMinutes * 60000
      : null;
  return {
    model: state.model,
    alias: state.alias,
    version: state.version,
    routes: routes ? routes.map((r) => ({ version: r.version, weight: weight(r.weight) })) : null,
    shadow: state.shadow,
    guard: state.guard as Record<string, number> | null,
    steps: state.steps,
    step_minutes: state.stepMinutes,
    state: {
      status: status(state, next),
      revision: state.revision,
      split_at: iso(state.splitAt),
      weights_changed_at: iso(state.weightsAt),
      next_step: next ?? null,
      next_step_at: iso(nextAt),
      rolled_back_at: iso(state.rolledBackAt),
      rollback: state.rollback,
    },
    updated_by: state.updatedBy,
    updated_at: iso(state.updatedAt)!,
  };
}

export const presentAliasSeries = (model: string, alias: string, s: AliasSeries): z.infer<typeof AliasSeriesView> => ({
  model,
  alias,
  window: { from: iso(s.fromMinute * 60000)!, to: iso((s.toMinute + 1) * 60000)!, step_minutes: s.stepMinutes },
  routes: s.routes.map((r) => ({
    route: r.route,
    version: r.version,
    weight: r.weight === null ? null : weight(r.weight),
    series: r.points.map(presentPoint),
  })),
  shadows: s.shadows.map((sh) => ({
    version: sh.version,
    current: sh.current,
    series: sh.points.map((p) => ({
      at: iso(p.at)!,
      requests: p.requests,
      errors: p.errors,
      error_rate: p.errorRate,
      agreement_rate: p.agreementRate,
      shadow_ms_mean: p.shadowMsMean,
    })),
  })),
  events: s.events.map((e) => ({
    at: iso(e.at)!,
    kind: e.kind,
    actor: e.actor,
    by: e.by,
    routes: e.routes && e.routes.map((r) => ({ version: r.version, weight: weight(r.weight) })),
  })),
});
