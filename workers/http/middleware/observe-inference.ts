import { createMiddleware } from 'hono/factory';
import { versionRef } from '../../inference/served-versions';
import { observeInference } from '../../monitoring/observe';
import type { AppEnv } from '../app-env';

/**
 * Counts a prediction request against its model version once it is answered: status class,
 * latency (as the Workers clock sees it), rows and cache outcome. Requests that never named an
 * existing version (an unknown model) have nothing to be counted against.
 */
export const observe = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const served = c.get('served');
    if (!served) return;
    const log = c.get('log');
    observeInference(c.get('deps'), versionRef(served), {
      status: c.res.status,
      latencyMs: performance.now() - c.get('startedAt'),
      rows: typeof log.rows === 'number' ? log.rows : 0,
      cache: log.cache as 'HIT' | 'MISS' | 'BYPASS' | undefined,
    });
  });
