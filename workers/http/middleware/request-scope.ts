import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { platformDeps } from '../../platform/deps';
import type { Env } from '../../platform/env';
import type { IsolateServices } from '../../platform/services';
import type { AppEnv } from '../app-env';

/**
 * Hands the request its deps (the isolate's services and this invocation's bindings, with a
 * logger carrying the request id), then writes the access line: one per request, with the
 * route pattern (never the query string or headers, so credentials cannot reach the logs) and
 * what the route noted in `access`. It only logs: monitoring is fed by the data plane.
 */
export const requestScope = (servicesFor: (env: Env) => IsolateServices) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const services = servicesFor(c.env);
    const logger = services.logger.with({ request_id: c.get('requestId') });
    const waitUntil = (work: Promise<unknown>) => {
      try {
        c.executionCtx.waitUntil(work);
      } catch {
        // No execution context (the app called directly in a test): the work still runs.
      }
    };
    c.set('deps', platformDeps(c.env, services, waitUntil, logger));
    c.set('startedAt', performance.now());
    const access: AppEnv['Variables']['access'] = {};
    c.set('access', access);
    await next();
    // A response a handler or middleware built itself (a CORS preflight) did not take the header.
    if (!c.res.headers.has('X-Request-Id')) {
      const copy = new Response(c.res.body, c.res);
      copy.headers.set('X-Request-Id', c.get('requestId'));
      c.res = undefined;
      c.res = copy;
    }
    const route = routePath(c, -1);
    logger.info('request', {
      ...access,
      method: c.req.method,
      route: route === '*' || route === '/*' ? null : route,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - c.get('startedAt')) * 100) / 100,
    });
  });
