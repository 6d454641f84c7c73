import type { Context } from 'hono';
import type { CacheMode } from '../cache/prediction-cache';
import type { InferenceDeps } from '../inference/infer';
import type { AppEnv } from './app-env';

export function inferenceDeps(c: Context<AppEnv>): InferenceDeps {
  return {
    ...c.get('deps'),
    kv: c.env.CACHE,
    config: c.get('config'),
    defer: (work) =>
      c.executionCtx.waitUntil(
        work.catch((err) =>
          console.error(
            JSON.stringify({
              level: 'warn',
              msg: 'deferred work failed',
              request_id: c.get('requestId'),
              error: String(err),
            }),
          ),
        ),
      ),
  };
}

/** `Cache-Control: no-cache` recomputes and refreshes the cached prediction; `no-store` leaves the cache alone. */
export function cacheModeOf(c: Context<AppEnv>): CacheMode {
  const header = (c.req.header('cache-control') ?? '').toLowerCase();
  if (header.includes('no-store')) return 'bypass';
  if (header.includes('no-cache')) return 'refresh';
  return 'use';
}
