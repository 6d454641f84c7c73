import { z } from '@hono/zod-openapi';
import { withDeadline } from '../../core/deadline';
import type { Env } from '../../platform/env';
import { defineRoute } from '../route';
import { newRouter } from '../router';

const Live = z.object({ live: z.boolean() }).openapi('Live', { example: { live: true } });
const Ready = z
  .object({
    ready: z.boolean(),
    checks: z.object({ d1: z.boolean(), r2: z.boolean(), kv: z.boolean() }),
  })
  .openapi('Ready', { example: { ready: true, checks: { d1: true, r2: true, kv: true } } });

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
        description: 'Answers 200 when D1, R2 and KV all answer, 503 otherwise, naming the failing store.',
        responses: {
          200: { description: 'Ready', content: { 'application/json': { schema: Ready } } },
          503: {
            description: 'A store does not answer',
            content: {
              'application/json': {
                schema: Ready,
                example: { ready: false, checks: { d1: true, r2: false, kv: true } },
              },
            },
          },
        },
      },
    ),
    async (c) => {
      const checks = await checkStorage(c.env);
      const ready = checks.d1 && checks.r2 && checks.kv;
      return ready ? c.json({ ready, checks }, 200) : c.json({ ready, checks }, 503);
    },
  );
