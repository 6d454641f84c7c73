import { configFrom, ortHeapLimit } from './core/config';
import type { Env } from './core/env';
import type { InferenceDeps } from './inference/infer';
import { limitOrtHeap } from './runtime/ort-env';
import { database } from './storage/db';

/*
 * The composition root: every entry point (fetch, queue, scheduled) builds its services'
 * bindings here, so a route and a queue consumer see the same platform.
 */
export interface PlatformDeps extends InferenceDeps {
  env: Env;
  batchQueue: Queue;
  webhookQueue: Queue;
}

export function platformDeps(
  env: Env,
  ctx: Pick<ExecutionContext, 'waitUntil'>,
  context: Record<string, unknown> = {},
): PlatformDeps {
  const config = configFrom(env);
  limitOrtHeap(ortHeapLimit(config));
  return {
    env,
    db: database(env.DB),
    bucket: env.BUCKET,
    kv: env.CACHE,
    config,
    batchQueue: env.BATCH_QUEUE,
    webhookQueue: env.WEBHOOK_QUEUE,
    defer: (work) =>
      ctx.waitUntil(
        work.catch((err: unknown) =>
          console.error(JSON.stringify({ level: 'warn', msg: 'deferred work failed', ...context, error: String(err) })),
        ),
      ),
  };
}
