/*
 * Domain errors: services throw these, and workers/http/errors.ts alone turns them into HTTP
 * responses. `code` is the stable machine-readable identifier clients switch on; `kind` decides
 * the status. Messages are written for the user who sent the request: they name what is wrong.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'invalid_model'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'length_required'
  | 'unsupported_media_type'
  | 'unauthenticated'
  | 'permission_denied'
  | 'rate_limited'
  | 'unavailable';

interface ErrorOptions {
  code?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options: ErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.code = options.code ?? kind;
    this.details = options.details;
  }
}

const factory =
  (kind: ErrorKind) =>
  (message: string, options?: ErrorOptions): DomainError =>
    new DomainError(kind, message, options);

export const invalidInput = factory('invalid_argument');
export const invalidModel = factory('invalid_model');
export const notFound = factory('not_found');
export const conflict = factory('conflict');
export const payloadTooLarge = factory('payload_too_large');
export const lengthRequired = factory('length_required');
export const unsupportedMediaType = factory('unsupported_media_type');
export const unauthenticated = factory('unauthenticated');
export const permissionDenied = factory('permission_denied');
export const unavailable = factory('unavailable');

/** Carries what the 429 response needs for its Retry-After and RateLimit-* headers. */
export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly limit: number,
    /** Seconds until the whole budget is back. */
    readonly resetSeconds: number,
    /** Seconds until the next request may succeed. */
    readonly retryAfterSeconds = resetSeconds,
  ) {
    super('rate_limited', message);
  }
}
