import { z } from '@hono/zod-openapi';
import { Timestamp } from './common';
import { SeriesPoint } from './monitoring';
import * as ex from './examples';

/*
 * Alias bodies and answers: a plain alias (`version`), or a traffic split (`routes`) with an
 * optional shadow, guard and steps. Every rule is checked here, with a message that names what
 * is wrong; the registry then checks the versions themselves (they exist, none is archived).
 */

const VersionNumber = z.number().int().min(1);

const Route = z
  .object({
    version: VersionNumber,
    weight: z.number().int({ error: 'weights are whole percents' }).min(0).max(100),
  })
  .strict();

const Shadow = z
  .object({
    version: VersionNumber,
    percent: z.number().gt(0, { error: 'percent must be above 0' }).max(100),
  })
  .strict()
  .openapi({ description: 'Mirror `percent` of the requests to this version after each answer is sent' });

export const GuardSchema = z
  .object({
    min_requests: z.number().int().min(1).max(1_000_000_000),
    max_error_rate: z.number().min(0).max(1).optional(),
    max_p99_ms: z.number().positive().optional(),
    max_accuracy_drop: z.number().min(0).max(1).optional(),
    min_feedback: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: 'Feedback rows each side needs before accuracy is compared (default 30)' }),
    window_minutes: z
      .number()
      .int()
      .min(1)
      .max(10_080)
      .optional()
      .openapi({ description: 'How far back the guard looks (default 60; never before the routes were set)' }),
  })
  .strict()
  .refine((g) => g.max_error_rate !== undefined || g.max_p99_ms !== undefined || g.max_accuracy_drop !== undefined, {
    error: 'a guard needs at least one limit: max_error_rate, max_p99_ms or max_accuracy_drop',
  });

const Steps = z
  .array(z.number().int({ error: 'steps are whole percents' }).min(1).max(100))
  .min(1)
  .max(20)
  .refine((steps) => steps.every((s, i) => i === 0 || s > steps[i - 1]!), {
    error: 'steps must rise strictly (for example [10, 25, 50, 100])',
  });

export const AliasBody = z
  .object({
    version: VersionNumber.optional().openapi({ description: 'One version: a plain alias' }),
    routes: z
      .array(Route)
      .min(2, { error: 'a split needs 2 to 5 routes (for one version, send "version")' })
      .max(5, { error: 'a split has at most 5 routes' })
      .optional()
      .openapi({ description: 'Versions to split the traffic between, with integer weights adding up to 100' }),
    shadow: Shadow.optional(),
    guard: GuardSchema.optional(),
    steps: Steps.optional().openapi({
      description: "The last route's weight, step by step; at 100 the alias becomes plain",
    }),
    step_minutes: z.number().int().min(1).max(10_080).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const issue = (message: string, path: (string | number)[] = []) =>
      ctx.addIssue({ code: 'custom', message, path, input: body });
    if (body.version !== undefined && body.routes !== undefined) {
      issue('give "version" (one version) or "routes" (a split), not both');
    }
    if (body.version === undefined && body.routes === undefined) issue('give "version" or "routes"');
    const routes = body.routes ?? [];
    if (routes.length > 0) {
      const total = routes.reduce((sum, r) => sum + r.weight, 0);
      if (total !== 100) issue(`weights must add up to 100; these add up to ${total}`, ['routes']);
      const seen = new Set<number>();
      routes.forEach((r, i) => {
        if (seen.has(r.version)) issue(`version ${r.version} is given twice`, ['routes', i, 'version']);
        seen.add(r.version);
      });
    }
    const versions = body.routes?.map((r) => r.version) ?? (body.version === undefined ? [] : [body.version]);
    if (body.shadow && versions.includes(body.shadow.version)) {
      issue(`version ${body.shadow.version} already serves the alias; a shadow is another version`, [
        'shadow',
        'version',
      ]);
    }
    if (!body.routes) {
      if (body.guard) issue('a guard needs "routes": it judges the routes after the first', ['guard']);
      if (body.steps) issue('steps need "routes": they ramp the last route', ['steps']);
    }
    if ((body.steps === undefined) !== (body.step_minutes === undefined)) {
      issue('"steps" and "step_minutes" go together', [body.steps === undefined ? 'step_minutes' : 'steps']);
    }
  })
  .openapi('SetAlias', { example: ex.ALIAS_SPLIT_BODY });

const RouteView = z.object({ version: z.number().int(), weight: z.number() });

export const AliasView = z
  .object({
    model: z.string(),
    alias: z.string(),
    version: z.number().int().openapi({ description: 'The version single-version readers get: the first route’s' }),
    routes: z.array(RouteView).nullable(),
    shadow: z.object({ version: z.number().int(), percent: z.number() }).nullable(),
    guard: z.record(z.string(), z.number()).nullable(),
    steps: z.array(z.number().int()).nullable(),
    step_minutes: z.number().int().nullable(),
    state: z.object({
      status: z.enum(['plain', 'split', 'ramping', 'rolled_back']),
      revision: z.number().int(),
      split_at: Timestamp.nullable(),
      weights_changed_at: Timestamp.nullable(),
      next_step: z.number().int().nullable(),
      next_step_at: Timestamp.nullable(),
      rolled_back_at: Timestamp.nullable(),
      rollback: z
        .object({
          by: z.enum(['guard', 'hand']),
          breaches: z.array(
            z.object({
              route: z.number().int(),
              version: z.number().int(),
              limit: z.string(),
              value: z.number(),
              threshold: z.number(),
            }),
          ),
        })
        .nullable(),
    }),
    updated_by: z.string(),
    updated_at: Timestamp,
  })
  .openapi('Alias', { example: ex.ALIAS_VIEW });

export const AliasSetView = AliasView.extend({
  previous_version: z.number().int().nullable().openapi({ description: 'Where the alias pointed before; null if new' }),
}).openapi('AliasSet', { example: { ...ex.ALIAS_VIEW, previous_version: 3 } });

export const PromoteBody = z
  .object({ version: VersionNumber.optional().openapi({ description: 'The route to promote; default the last' }) })
  .strict()
  .openapi('PromoteAlias', { example: { version: 4 } });

const Test = z
  .object({
    difference: z.number(),
    z: z.number().nullable(),
    p_value: z.number().nullable(),
    significant: z.boolean(),
  })
  .nullable();
const Spread = z.object({ mean: z.number().nullable(), max: z.number() });

export const ScorecardView = z
  .object({
    model: z.string(),
    alias: z.string(),
    from: Timestamp,
    to: Timestamp,
    min_requests: z.number().int(),
    routes: z.array(
      z.object({
        route: z.number().int(),
        version: z.number().int(),
        weight: z.number(),
        requests: z.number().int(),
        errors: z.object({ client: z.number().int(), server: z.number().int() }),
        error_rate: z.number().nullable(),
        latency_ms: z.object({
          mean: z.number().nullable(),
          p50: z.number().nullable(),
          p95: z.number().nullable(),
          p99: z.number().nullable(),
        }),
        cache_hit_ratio: z.number().nullable(),
        quality: z
          .object({
            kind: z.enum(['classification', 'regression']),
            feedback_rows: z.number().int(),
            accuracy: z.number().nullable(),
            mae: z.number().nullable(),
          })
          .nullable(),
        drift: z.object({ status: z.string(), checked_at: Timestamp }).nullable(),
        vs_first: z
          .object({
            enough_requests: z.boolean(),
            error_rate: Test,
            enough_feedback: z.boolean(),
            accuracy: Test,
          })
          .nullable(),
      }),
    ),
    shadow: z
      .object({
        version: z.number().int(),
        percent: z.number(),
        requests: z.number().int(),
        errors: z.number().int(),
        error_rate: z.number().nullable(),
        rows: z.number().int(),
        agreement_rate: z.number().nullable(),
        probability_difference: Spread.nullable(),
        outputs: z.array(
          z.object({
            name: z.string(),
            elements: z.number().int(),
            equal_rate: z.number().nullable(),
            abs_difference: Spread,
            rel_difference: Spread,
          }),
        ),
        latency_ms: z.object({ primary_mean: z.number().nullable(), shadow_mean: z.number().nullable() }),
      })
      .nullable(),
  })
  .openapi('Scorecard', { example: ex.SCORECARD });

export const AliasSeriesView = z
  .object({
    model: z.string(),
    alias: z.string(),
    window: z.object({
      from: Timestamp,
      to: Timestamp,
      step_minutes: z.number().int().openapi({ description: 'Bucket size, as in the model’s stats' }),
    }),
    routes: z.array(
      z.object({
        route: z.number().int().nullable().openapi({
          description: 'Its index among the alias’s routes now; null for a version it no longer routes to',
        }),
        version: z.number().int(),
        weight: z.number().nullable().openapi({ description: 'Its weight now; null when it is no longer a route' }),
        series: z.array(SeriesPoint),
      }),
    ),
    shadows: z.array(
      z.object({
        version: z.number().int(),
        current: z.boolean().openapi({ description: 'Whether it is the alias’s shadow now' }),
        series: z.array(
          z.object({
            at: Timestamp.openapi({ description: 'Start of the bucket' }),
            requests: z.number().int(),
            errors: z.number().int(),
            error_rate: z.number().nullable(),
            agreement_rate: z
              .number()
              .nullable()
              .openapi({ description: 'Classifiers: compared rows whose labels agreed' }),
            shadow_ms_mean: z.number().nullable(),
          }),
        ),
      }),
    ),
    events: z.array(
      z.object({
        at: Timestamp,
        kind: z.enum(['set', 'stepped', 'rolled_back', 'promoted', 'removed']),
        actor: z.string().openapi({ description: '`system` for the guard and steps, else who called' }),
        by: z
          .string()
          .nullable()
          .openapi({ description: '`guard` or `hand` (rollback), `steps` or `hand` (promotion)' }),
        routes: z
          .array(z.object({ version: z.number().int(), weight: z.number() }))
          .nullable()
          .openapi({ description: 'The weights after the change' }),
      }),
    ),
  })
  .openapi('AliasSeries', { example: ex.ALIAS_SERIES });
