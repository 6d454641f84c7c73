import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  codesOfKind,
  DomainError,
  ERROR_CODES,
  RateLimitedError,
  type ErrorCode,
  type ErrorKind,
} from '../core/errors';
import { createLogger, errorFields } from '../core/logger';
import { storeOutage } from '../storage/outage';
import type { AppEnv } from './app-env';
import * as ex from './schemas/examples';

/*
 * The one place that turns errors into HTTP, and that documents them. Routes under /v2 speak
 * the Open Inference Protocol's `{"error": "..."}`; everything else gets the envelope with code
 * and request id, its `code` one of core/errors.ts's catalogue.
 */

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  length_required: 411,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_model: 422,
  rate_limited: 429,
  internal: 500,
  bad_gateway: 502,
  unavailable: 503,
  gateway_timeout: 504,
};

const KIND_OF_STATUS = new Map<number, ErrorKind>(
  Object.entries(STATUS).map(([kind, status]) => [status, kind as ErrorKind]),
);

/** What a client is told to wait before retrying a request that met a storage outage. */
const OUTAGE_RETRY_AFTER_SECONDS = 5;

interface HttpError {
  status: ContentfulStatusCode;
  code: ErrorCode;
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
  // hono's own refusals (its validators: malformed JSON, a body of another media type).
  if (err instanceof HTTPException && err.status === 415) {
    return {
      status: 415,
      code: 'unsupported_media_type',
      message: 'this route takes a JSON body: send "Content-Type: application/json"',
    };
  }
  if (err instanceof HTTPException && err.status === 400) {
    return { status: 400, code: 'invalid_argument', message: err.message || 'the request is malformed' };
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
  const access = c.get('access');
  if (access) access.code = error.code;
  c.set('failure', { code: error.code, message: error.message });
  const body = isV2Path(c.req.path)
    ? { error: error.message }
    : { error: { code: error.code, message: error.message, request_id: c.get('requestId'), details: error.details } };
  return c.json(body, error.status, error.headers);
}

/**
 * hono's onError: domain errors answer 4xx/503, storage outages 503 (logged as such); anything
 * else is logged with its stack and answers 500.
 */
export function handleError(err: unknown, c: Context<AppEnv>): Response {
  const known = classify(err);
  if (known?.code === 'storage_unavailable') c.get('access').outage = storeOutage(err);
  if (known) return renderError(c, known);
  // Before the request's deps exist (an invalid configuration), the plain logger reports it.
  const logger = c.get('deps')?.logger ?? createLogger().with({ request_id: c.get('requestId') });
  logger.error('unhandled error', errorFields(err, { stack: true }));
  return renderError(c, {
    status: 500,
    code: 'internal',
    message: 'internal error; quote the request id when reporting it',
  });
}

// ── The OpenAPI side: what each status's body looks like, with the codes it can carry. ──

const DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; the message names the field and the rule',
  401: 'No credential, or one that is malformed, unknown, expired or revoked',
  403: 'The credential is valid but its role or scopes do not allow this',
  404: 'No such resource in this workspace (resources of other workspaces answer the same)',
  409: 'The request conflicts with the current state',
  411: 'The body must declare its Content-Length',
  413: 'The body is larger than this route accepts',
  415: 'The body has a content type this route does not accept',
  422: 'The uploaded file is not a model that can be served',
  429: 'Rate limit exceeded; see Retry-After and the RateLimit-* headers',
  502: 'The backend serving the version (runner or remote server) answered with an error or something unreadable',
  504: 'The backend serving the version did not answer in time',
  503: 'A store did not answer (`storage_unavailable`, with Retry-After), or the server is not configured for this',
};

const envelopes = new Map<number, z.ZodType>();

/** The /v1 error envelope of one status, its `code` enumerated from the catalogue. */
function envelopeFor(status: number): z.ZodType {
  let schema = envelopes.get(status);
  if (!schema) {
    const kind = KIND_OF_STATUS.get(status);
    if (!kind) throw new Error(`no error kind answers ${status}`);
    const codes = codesOfKind(kind) as [ErrorCode, ...ErrorCode[]];
    const example = ex.ERRORS[status] ?? ex.ERROR.error;
    schema = z
      .object({
        error: z.object({
          code: z.enum(codes).openapi({ example: example.code as ErrorCode }),
          message: z.string().openapi({ example: example.message }),
          request_id: z.string().openapi({ example: ex.ERROR.error.request_id }),
          details: z.record(z.string(), z.unknown()).optional(),
        }),
      })
      .openapi(`Error${status}`, { example: { error: { ...example, request_id: ex.ERROR.error.request_id } } });
    envelopes.set(status, schema);
  }
  return schema;
}

/** The /v1 error envelope with every code of the catalogue: what a client can type its errors by. */
export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).openapi({ example: 'model_not_found' }),
      message: z.string().openapi({ example: "model 'iris' not found" }),
      request_id: z.string().openapi({ example: 'req_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f' }),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi('Error', { example: ex.ERROR });

/** The Open Inference Protocol's error body. */
export const V2Error = z
  .object({ error: z.string().openapi({ example: "model 'iris' not found" }) })
  .openapi('V2Error', { example: { error: ex.V2_ERRORS[404]! } });

/**
 * The error responses of a route: each status with its body (the V2 one under /v2). 503 is
 * always listed: every route that touches a store can meet an outage.
 */
export function errorResponses(path: string, statuses: Iterable<number>) {
  const v2 = isV2Path(path);
  return Object.fromEntries(
    [...new Set([...statuses, 503])]
      .sort((a, b) => a - b)
      .map((status) => [
        status,
        {
          description: DESCRIPTIONS[status] ?? 'Error',
          content: {
            'application/json': v2
              ? { schema: V2Error, example: { error: ex.V2_ERRORS[status] } }
              : { schema: envelopeFor(status) },
          },
        },
      ]),
  );
}
