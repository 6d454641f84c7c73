import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../app-env';

/**
 * One JSON line per request. Only the route pattern is logged, never the query string or
 * headers, so credentials and tokens cannot reach the logs. What handlers add (model, version,
 * rows, cache) comes first so it can never overwrite the request's own fields.
 */
export const accessLog = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const route = routePath(c, -1);
    console.log(
      JSON.stringify({
        ...c.get('log'),
        level: 'info',
        msg: 'request',
        request_id: c.get('requestId'),
        method: c.req.method,
        route: route === '*' || route === '/*' ? null : route,
        status: c.res.status,
        duration_ms: Math.round((performance.now() - c.get('startedAt')) * 100) / 100,
      }),
    );
  });
