import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, RateLimitedError, type ErrorKind } from '../core/errors';
import { storeOutage } from '../storage/outage';
import type { AppEnv } from './app-env';

/*
 * The one place that turns errors into HTTP. Routes under /v2 speak the Open Inference
 * Protocol's `{"error": "..."}`; everything else gets the envelope with code and request id.
 */

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  length_required: 411,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_model: 422,
  rate_limited: 429,
  unavailable: 503,
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** What a client is told to wait before retrying a request that met a storage outage. */
const OUTAGE_RETRY_AFTER_SECONDS = 5;

interface HttpError {
  status: ContentfulStatusCode;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

function classify(err: unknown): HttpError | undefined {
  if (err instanceof RateLimitedError) {
    return {
      status: 429,
      code: err.code,
      message: err.message,
      headers: {
        'Retry-After': String(err.retryAfterSeconds),
        'RateLimit-Limit': String(err.limit),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': String(err.resetSeconds),
      },
    };
  }
  if (err instanceof DomainError) {
    const headers: Record<string, string> | undefined =
      err.kind === 'unauthenticated' ? { 'WWW-Authenticate': 'Bearer realm="modelflare"' } : undefined;
    return { status: STATUS[err.kind], code: err.code, message: err.message, details: err.details, headers };
  }
  if (err instanceof HTTPException && err.status < 500) {
    const status = err.status as ContentfulStatusCode;
    // hono's body validators raise 415 with a bare reason phrase; say what to send instead.
    const message =
      status === 415 ? 'this route takes a JSON body: send "Content-Type: application/json"' : err.message;
    return { status, code: CODE_BY_STATUS[status] ?? 'error', message: message || 'request failed' };
  }
  const store = storeOutage(err);
  if (store) {
    return {
      status: 503,
      code: 'storage_unavailable',
      message: `the platform's storage (${store}) did not answer; retry in a few seconds`,
      headers: { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) },
    };
  }
  return undefined;
}

export function isV2Path(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

export function renderError(c: Context<AppEnv>, error: HttpError): Response {
  const requestId = c.get('requestId');
  const body = isV2Path(c.req.path)
    ? { error: error.message }
    : { error: { code: error.code, message: error.message, request_id: requestId, details: error.details } };
  return c.json(body, error.status, error.headers);
}

/**
 * hono's onError: domain errors answer 4xx/503, storage outages 503 (logged); anything else is
 * logged and answers 500.
 */
export function handleError(err: unknown, c: Context<AppEnv>): Response {
  const known = classify(err);
  // The access log names the store; drizzle's message would carry the query's parameters.
  if (known?.code === 'storage_unavailable') c.set('log', { ...c.get('log'), outage: storeOutage(err) });
  if (known) return renderError(c, known);
  c.set('log', { ...c.get('log'), error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  console.error(
    JSON.stringify({
      level: 'error',
      msg: 'unhandled error',
      request_id: c.get('requestId'),
      error: err instanceof Error ? err.stack : String(err),
    }),
  );
  return renderError(c, {
    status: 500,
    code: 'internal',
    message: 'internal error; quote the request id when reporting it',
  });
}
