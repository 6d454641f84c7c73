import { z } from '@hono/zod-openapi';
import { withDeadline } from '../../core/deadline';
import type { Env } from '../../platform/env';
import { defineRoute } from '../route';
import { newRouter } from '../router';

const Live = z.object({ live: z.boolean() }).openapi('Live', { example: { live: true } });
const Ready = z
  .object({
    ready: z.boolean(),
    checks: z.object({
      d1: z.boolean(),
      r2: z.boolean(),
      kv: z.boolean(),
      runner: z.boolean().optional().openapi({
        description:
          'Where a runner is configured by RUNNER_URL: whether it answers its health check (runner containers start on demand and are not woken by this probe)',
      }),
    }),
    backends_not_answering: z.array(z.object({ backend: z.string(), error: z.string() })).openapi({
      description:
        'Runner instances and remote servers whose circuit is open in this isolate after repeated failures (their versions answer 503 until one call succeeds)',
    }),
  })
  .openapi('Ready', { example: { ready: true, checks: { d1: true, r2: true, kv: true }, backends_not_answering: [] } });

/** A store that has not answered by then counts as down: a probe must not hang the check. */
const PROBE_TIMEOUT_MS = 2000;

async function passes(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await withDeadline(probe(), PROBE_TIMEOUT_MS, 'health probe');
    return true;
  } catch {
    return false;
  }
}

async function checkStorage(env: Env) {
  const [d1, r2, kv] = await Promise.all([
    passes(() => env.DB.prepare('select 1').first()),
    passes(() => env.BUCKET.head('health/probe')),
    passes(() => env.CACHE.get('health:probe')),
  ]);
  return { d1, r2, kv };
}

export const healthRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'public', budget: 'unmetered', body: 'none' },
      {
        method: 'get',
        path: '/v2/health/live',
        tags: ['Health'],
        summary: 'Liveness',
        description: 'Answers 200 while the worker can serve requests (Open Inference Protocol).',
        responses: { 200: { description: 'Live', content: { 'application/json': { schema: Live } } } },
      },
    ),
    (c) => c.json({ live: true }, 200),
  )
  .openapi(
    defineRoute(
      { access: 'public', budget: 'unmetered', body: 'none' },
      {
        method: 'get',
        path: '/v2/health/ready',
        tags: ['Health'],
        summary: 'Readiness',
        description:
          'Answers 200 when D1, R2 and KV all answer (and the runner, where RUNNER_URL names one), 503 otherwise, naming what fails. Runner instances and remote servers that stopped answering are listed either way.',
        responses: {
          200: { description: 'Ready', content: { 'application/json': { schema: Ready } } },
          503: {
            description: 'A store does not answer',
            content: {
              'application/json': {
                schema: Ready,
                example: { ready: false, checks: { d1: true, r2: false, kv: true }, backends_not_answering: [] },
              },
            },
          },
        },
      },
    ),
    async (c) => {
      const deps = c.get('deps');
      const runner = deps.config.RUNNER_URL ? deps.runner : undefined;
      const [stores, runnerUp] = await Promise.all([
        checkStorage(c.env),
        runner
          ? passes(async () => {
              const res = await runner.fetch('runner-0', '/v2/health/ready', {});
              if (!res.ok) throw new Error(`runner answered ${res.status}`);
            })
          : undefined,
      ]);
      const checks = runnerUp === undefined ? stores : { ...stores, runner: runnerUp };
      const ready = stores.d1 && stores.r2 && stores.kv && runnerUp !== false;
      const body = { ready, checks, backends_not_answering: deps.breakers.openCircuits() };
      return ready ? c.json(body, 200) : c.json(body, 503);
    },
  );
