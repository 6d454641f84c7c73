import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { platformDeps } from '../../platform/deps';
import type { Env } from '../../platform/env';
import type { IsolateServices } from '../../platform/services';
import { NAME_PATTERN } from '../../registry/names';
import type { AppEnv } from '../app-env';

/**
 * Hands the request its deps (the isolate's services and this invocation's bindings, with a
 * logger carrying the request id), then writes the access line: one per request, with the
 * route pattern (never the query string or headers, so credentials cannot reach the logs) and
 * what the route noted in `access`. Counts are the data plane's; a failed request is also kept
 * here, with the code and message its caller got, for the errors view.
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
    const matched = routePath(c, -1);
    const route = matched === '*' || matched === '/*' ? null : matched;
    logger.info('request', {
      ...access,
      method: c.req.method,
      route,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - c.get('startedAt')) * 100) / 100,
    });
    recordFailure(c, route);
  });

/**
 * A failed request of a known workspace joins its errors view (monitoring/failures.ts). One
 * without a workspace (no valid credential) belongs to nobody who could read it.
 */
function recordFailure(c: Context<AppEnv>, route: string | null): void {
  const failure = c.get('failure');
  const access = c.get('access');
  if (!failure || c.res.status < 400 || !access.workspace) return;
  const deps = c.get('deps');
  deps.failures.record(deps, {
    workspaceId: access.workspace,
    model: access.model ?? modelOfPath(c),
    version: access.version ?? null,
    requestId: c.get('requestId'),
    method: c.req.method,
    route,
    status: c.res.status,
    code: failure.code,
    message: failure.message,
  });
}

/** The model a /v1/models/{name}/… or /v2/models/{model}/… path names, if it is one. */
function modelOfPath(c: Context<AppEnv>): string | null {
  const match = /^\/v[12]\/models\/([^/]+)/.exec(c.req.path);
  if (!match) return null;
  try {
    const name = decodeURIComponent(match[1]!);
    return NAME_PATTERN.test(name) ? name : null;
  } catch {
    return null;
  }
}
