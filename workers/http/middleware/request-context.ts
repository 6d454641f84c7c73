import { createMiddleware } from 'hono/factory';
import { SAFE_TOKEN, newId } from '../../core/ids';
import { platformDeps } from '../../deps';
import type { AppEnv } from '../app-env';
import { addResponseHeaders } from '../response-headers';

/** Sets the request id (a well-formed incoming X-Request-Id is kept) and per-request services. */
export const requestContext = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SAFE_TOKEN.test(incoming) ? incoming : newId('req');
    c.set('requestId', requestId);
    c.set('startedAt', performance.now());
    c.set('log', {});
    const waitUntil = (work: Promise<unknown>) => {
      try {
        c.executionCtx.waitUntil(work);
      } catch {
        // No execution context (the app called directly in a test): the work still runs.
      }
    };
    const deps = platformDeps(c.env, { waitUntil }, { request_id: requestId });
    c.set('config', deps.config);
    c.set('deps', deps);
    // Set before the handler so the response is built with it: a header set on a finished
    // response makes hono copy the whole response.
    c.header('X-Request-Id', requestId);
    await next();
    // A handler that returns its own Response object did not take the prepared header.
    if (!c.res.headers.has('X-Request-Id')) addResponseHeaders(c, { 'X-Request-Id': requestId });
  });
