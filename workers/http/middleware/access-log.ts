import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../app-env';

/**
 * One JSON line per request. Only the route pattern is logged, never the query string or
 * headers, so credentials and tokens cannot reach the logs.
 */
export const accessLog = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const route = routePath(c, -1);
    console.log(
      JSON.stringify({
        level: 'info',
        msg: 'request',
        request_id: c.get('requestId'),
        method: c.req.method,
        route: route === '*' || route === '/*' ? null : route,
        status: c.res.status,
        duration_ms: Math.round((performance.now() - c.get('startedAt')) * 100) / 100,
        ...c.get('log'),
      }),
    );
  });
