import type { Context } from 'hono';
import type { CacheMode } from '../cache/prediction-cache';
import type { AppEnv } from './app-env';

/** `Cache-Control: no-cache` recomputes and refreshes the cached prediction; `no-store` leaves the cache alone. */
export function cacheModeOf(c: Context<AppEnv>): CacheMode {
  const header = (c.req.header('cache-control') ?? '').toLowerCase();
  if (header.includes('no-store')) return 'bypass';
  if (header.includes('no-cache')) return 'refresh';
  return 'use';
}
