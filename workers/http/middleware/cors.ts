import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';

/*
 * CORS for the origins in CORS_ORIGINS (`*` for any). An origin not on the list gets no CORS
 * header at all (hono's cors middleware would still send its Expose-Headers), so the browser
 * refuses to hand the response to its page. Preflights are answered here, before
 * authentication: browsers send them without credentials.
 */

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS = 'Authorization, Content-Type, Modelflare-Workspace, X-Request-Id, If-None-Match';
const EXPOSE_HEADERS = [
  'X-Request-Id',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Location',
  'ETag',
  'Content-Disposition',
  'X-Cache',
  'X-Prediction-Id',
  'Server-Timing',
].join(', ');
const MAX_AGE_SECONDS = '600';

export const cors = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header('origin');
    const allowed = c.get('deps').config.CORS_ORIGINS;
    const allowOrigin = origin && (allowed.includes('*') ? '*' : allowed.includes(origin) ? origin : undefined);
    const preflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined;
    if (preflight) {
      const headers = new Headers({ Vary: 'Origin' });
      if (allowOrigin) {
        headers.set('Access-Control-Allow-Origin', allowOrigin);
        headers.set('Access-Control-Allow-Methods', ALLOW_METHODS);
        headers.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
        headers.set('Access-Control-Max-Age', MAX_AGE_SECONDS);
      }
      return new Response(null, { status: 204, headers });
    }
    // Set before the handler, so the response is built with them (hono copies a finished
    // response for each header set on it afterwards).
    c.header('Vary', 'Origin', { append: true });
    if (allowOrigin) {
      c.header('Access-Control-Allow-Origin', allowOrigin);
      c.header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
    await next();
  });
