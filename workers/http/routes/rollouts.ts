import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { conflict } from '../../core/errors';
import { getAlias, readAlias, type AliasState } from '../../registry/aliases';
import { requireModel } from '../../registry/models';
import type { ModelRow } from '../../registry/types';
import { guardWindowStart, promoteAlias, rollBackAlias, type Actor } from '../../rollouts/check';
import { scorecard } from '../../rollouts/scorecard';
import { scorecardJson } from '../../rollouts/scorecard-json';
import { aliasSeries } from '../../rollouts/series';
import type { AppEnv } from '../app-env';
import { presentAlias, presentAliasSeries } from '../presenters/rollouts';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { jsonContent } from '../schemas/common';
import { Window } from '../schemas/monitoring';
import { AliasSeriesView, AliasView, PromoteBody, ScorecardView } from '../schemas/rollouts';
import { AliasParams } from './aliases';

/* A split alias's scorecard, and promoting or rolling it back by hand (what the guard and steps do by themselves). */

const actorOf = (c: Context<AppEnv>): Actor => {
  const principal = c.get('principal');
  return { kind: principal.kind, id: principal.id };
};

/** The alias, refused unless it splits its traffic. */
async function splitAlias(c: Context<AppEnv>, name: string, alias: string) {
  const deps = c.get('deps');
  const model = await requireModel(deps, scopeOf(c), name, { allowArchived: false });
  const state = await getAlias(deps, scopeOf(c), name, alias);
  if (!state.routes) {
    throw conflict(`alias '${alias}' of model '${name}' points at one version (${state.version}); it has no routes`, {
      code: 'alias_not_split',
    });
  }
  return { model, state: state as AliasState & { routes: NonNullable<AliasState['routes']> } };
}

async function current(c: Context<AppEnv>, model: ModelRow, alias: string) {
  return presentAlias((await readAlias(c.get('deps'), model, alias))!);
}

/** An alias, with the counts this isolate holds for it written first (as the stats route does). */
async function aliasWithCounts(c: Context<AppEnv>, name: string, alias: string) {
  const deps = c.get('deps');
  c.get('access').model = name;
  const model = await requireModel(deps, scopeOf(c), name);
  const state = await getAlias(deps, scopeOf(c), name, alias);
  await deps.routeMetrics.flush(deps);
  return { deps, model, state };
}

const WindowQuery = z.object({ window: Window.optional().openapi({ description: 'Default 1h' }) });

const changedMeanwhile = (alias: string) =>
  conflict(`alias '${alias}' changed while this request was applying; read it and try again`, {
    code: 'alias_changed',
  });

export const rolloutRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/aliases/{alias}/scorecard',
        tags: ['Registry'],
        summary: 'Scorecard of an alias’s routes',
        description:
          'Per route over the window (never reaching back before the routes were set): requests served through the alias, errors and error rate, latency percentiles, cache hit ratio, accuracy or mean absolute error from feedback, the version’s drift status; and against the first route, the difference in error rate and accuracy with a two-proportion test (significant at p < 0.05, and only once both sides have `min_requests`, or 30 feedback rows). For the shadow: requests, errors, label agreement rate and probability differences (classifiers) or absolute and relative differences per output, and both latencies.',
        request: { params: AliasParams, query: WindowQuery },
        responses: { 200: jsonContent(ScorecardView, 'The scorecard') },
      },
    ),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      const { window } = c.req.valid('query');
      const { deps, model, state } = await aliasWithCounts(c, name, alias);
      const now = Date.now();
      // Traffic from before the routes were set belongs to another experiment.
      const from = Math.max(now - (window ?? 60) * 60000, state.splitAt ?? 0);
      const card = await scorecard(deps.db, model, state, from, now);
      return c.json(scorecardJson(card), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/aliases/{alias}/series',
        tags: ['Registry'],
        summary: 'An alias’s routes over time',
        description:
          'Over the window, in the buckets of the model’s stats: a series per version the alias routed traffic to (its routes now first, in route order, even before they have traffic; then versions it no longer routes to) with requests, rows, error rate, latency percentiles and cache hit ratio; a series per shadow version (requests, errors, label agreement, mean latency); and the changes of the rollout in the window from the audit log — `set`, `stepped`, `rolled_back`, `promoted`, `removed` — each with the weights after it. The dashboard draws a line per route from it.',
        request: { params: AliasParams, query: WindowQuery },
        responses: { 200: jsonContent(AliasSeriesView, 'The series') },
      },
    ),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      const { window } = c.req.valid('query');
      const { deps, model, state } = await aliasWithCounts(c, name, alias);
      const series = await aliasSeries(deps.db, model, state, window ?? 60);
      return c.json(presentAliasSeries(name, alias, series), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [404, 409] },
      {
        method: 'post',
        path: '/v1/models/{name}/aliases/{alias}/promote',
        tags: ['Registry'],
        summary: 'Promote a route',
        description:
          'Makes the alias a plain alias on one of its routes’ versions (the last route unless `version` names another), as steps do at 100; its routes, shadow, guard and steps end. Sends `alias.promoted` (and `alias.moved` when the version changes). 409 `alias_not_split` for an alias with one version.',
        request: {
          params: AliasParams,
          body: { required: false, content: { 'application/json': { schema: PromoteBody } } },
        },
        responses: { 200: jsonContent(AliasView, 'The alias as it now stands') },
      },
    ),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      const { version } = c.req.valid('json');
      const deps = c.get('deps');
      c.get('access').model = name;
      const { model, state } = await splitAlias(c, name, alias);
      const route =
        version === undefined
          ? state.routes[state.routes.length - 1]!
          : state.routes.find((r) => r.version === version);
      if (!route) {
        throw conflict(
          `version ${version} is not a route of alias '${alias}' (its routes: ${state.routes.map((r) => r.version).join(', ')})`,
        );
      }
      c.get('access').version = route.version;
      const done = await promoteAlias(deps, model, state, route, 'hand', actorOf(c), c.get('requestId'));
      if (!done) throw changedMeanwhile(alias);
      return c.json(await current(c, model, alias), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'none', errors: [404, 409] },
      {
        method: 'post',
        path: '/v1/models/{name}/aliases/{alias}/rollback',
        tags: ['Registry'],
        summary: 'Roll an alias back',
        description:
          'Sends all of the alias’s traffic to its first route (the others keep their place at weight 0, so the scorecard still shows them) and stops its steps, as the guard does on a breach. Sends `alias.rolled_back` with the scorecard at that moment. An alias already rolled back is answered as it stands. 409 `alias_not_split` for an alias with one version.',
        request: { params: AliasParams },
        responses: { 200: jsonContent(AliasView, 'The alias as it now stands') },
      },
    ),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      const deps = c.get('deps');
      c.get('access').model = name;
      const { model, state } = await splitAlias(c, name, alias);
      if (state.rolledBackAt === null) {
        await deps.routeMetrics.flush(deps);
        const now = Date.now();
        const card = await scorecard(deps.db, model, state, guardWindowStart(state, now), now);
        const rollback = { by: 'hand' as const, breaches: [] };
        const done = await rollBackAlias(deps, model, state, rollback, card, actorOf(c), c.get('requestId'), now);
        if (!done) throw changedMeanwhile(alias);
      }
      return c.json(await current(c, model, alias), 200);
    },
  );
