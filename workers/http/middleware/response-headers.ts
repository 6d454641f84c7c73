import { createMiddleware } from 'hono/factory';
import type { Config } from '../../core/config';
import type { AppEnv } from '../app-env';

/*
 * The headers every response carries, set before the handler so the response is built with
 * them (set afterwards, each one is a call on the finished response):
 *
 * - Security: what matters for an API and its two pages. A policy that denies everything a
 *   JSON API never needs; /docs and /dashboard (served from this worker) need their own
 *   scripts, inline styles and data: images, and nothing from another origin. No framing, no
 *   MIME sniffing, no referrer. HSTS outside development, where the server is plain http.
 * - CORS for the origins in CORS_ORIGINS (`*` for any). An origin not on the list gets no CORS
 *   header at all, so the browser refuses to hand the response to its page. Preflights are
 *   answered here, before authentication: browsers send them without credentials.
 */

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY: [string, string][] = [
  ['Content-Security-Policy', CSP],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
];
const HSTS: [string, string] = ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'];

const securityOf = (config: Config) => (config.ENVIRONMENT === 'development' ? SECURITY : [...SECURITY, HSTS]);

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
// Inference bodies may be compressed and carry binary tensor data (Open Inference Protocol clients);
// a split alias's caller may pin its route with a routing key.
const ALLOW_HEADERS =
  'Authorization, Content-Type, Modelflare-Workspace, Modelflare-Routing-Key, X-Request-Id, If-None-Match, Content-Encoding, Inference-Header-Content-Length';
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
  'Modelflare-Route',
  'Server-Timing',
  'Inference-Header-Content-Length',
].join(', ');
const MAX_AGE_SECONDS = '600';

export const responseHeaders = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const config = c.get('deps').config;
    const origin = c.req.header('origin');
    const allowed = config.CORS_ORIGINS;
    const allowOrigin = origin && (allowed.includes('*') ? '*' : allowed.includes(origin) ? origin : undefined);
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined) {
      const headers = new Headers([...securityOf(config), ['Vary', 'Origin']]);
      if (allowOrigin) {
        headers.set('Access-Control-Allow-Origin', allowOrigin);
        headers.set('Access-Control-Allow-Methods', ALLOW_METHODS);
        headers.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
        headers.set('Access-Control-Max-Age', MAX_AGE_SECONDS);
      }
      return new Response(null, { status: 204, headers });
    }
    for (const [name, value] of securityOf(config)) c.header(name, value);
    c.header('Vary', 'Origin', { append: true });
    if (allowOrigin) {
      c.header('Access-Control-Allow-Origin', allowOrigin);
      c.header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
    await next();
  });
