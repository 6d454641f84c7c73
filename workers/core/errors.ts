/*
 * Domain errors: services throw these, and workers/http/errors.ts alone turns them into HTTP
 * responses. Every `code` the API can answer is in ERROR_CODES below, a closed catalogue the
 * compiler holds throw sites to and the OpenAPI document lists per status. `kind` decides the
 * status. Messages are written for the user who sent the request: they name what is wrong.
 * An expected miss (no such alias, no baseline yet) is a value the service returns, not one of
 * these caught by its code.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'length_required'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_model'
  | 'rate_limited'
  | 'internal'
  | 'bad_gateway'
  | 'unavailable'
  | 'gateway_timeout';

interface CodeEntry {
  /** The kinds (statuses) the code is answered with; most have one. */
  kinds: readonly ErrorKind[];
  description: string;
}

const code = (description: string, ...kinds: ErrorKind[]): CodeEntry => ({ kinds, description });

export const ERROR_CODES = {
  // 400
  invalid_argument: code('The request is invalid; the message names the field and the rule', 'invalid_argument'),
  invalid_cursor: code('The pagination cursor was not one this API handed out', 'invalid_argument'),
  inference_failed: code('The model refused these inputs at run time (onnxruntime’s reason)', 'invalid_argument'),
  drift_unsupported: code('The model has no feature the drift statistics can read', 'invalid_argument'),
  nesting_too_deep: code('A JSON value nests deeper than the limit', 'invalid_argument'),
  wrong_password: code('The current password is not the one given', 'invalid_argument'),
  weak_password: code('The new password does not meet the rules', 'invalid_argument'),
  // 401
  unauthenticated: code('No credential, or one that is malformed or unknown', 'unauthenticated'),
  invalid_credentials: code('Wrong e-mail or password', 'unauthenticated'),
  invalid_token: code('The access token does not verify', 'unauthenticated'),
  token_expired: code('The access token has expired: refresh it', 'unauthenticated'),
  invalid_refresh_token: code('The refresh token is unknown', 'unauthenticated'),
  refresh_token_expired: code('The refresh token has expired: sign in again', 'unauthenticated'),
  refresh_token_reused: code('A used refresh token was presented again; the session ended', 'unauthenticated'),
  session_ended: code('The session of this token has ended', 'unauthenticated'),
  key_revoked: code('The API key has been revoked', 'unauthenticated'),
  key_expired: code('The API key has expired', 'unauthenticated'),
  key_owner_removed: code('The API key’s owner is no longer a member of its workspace', 'unauthenticated'),
  invalid_reset_token: code('The password reset token is unknown, used or expired', 'unauthenticated'),
  invalid_signature: code('The webhook signature does not verify', 'unauthenticated'),
  // 403
  permission_denied: code('The credential is valid but its role or scopes do not allow this', 'permission_denied'),
  scope_not_held: code('A key cannot be given scopes its creator does not hold', 'permission_denied'),
  admin_only: code('Only the platform administrator can do this', 'permission_denied'),
  owner_only: code('Only an owner of the workspace can do this', 'permission_denied'),
  user_only: code('Only a signed-in user can do this', 'permission_denied'),
  invitation_email_mismatch: code('The invitation is for another e-mail address', 'permission_denied'),
  own_password: code('Change your own password with the current one, not a reset', 'permission_denied'),
  reset_needs_admin: code(
    'The user belongs to workspaces you do not own: the platform admin resets it',
    'permission_denied',
  ),
  // 404
  not_found: code('No such resource in this workspace', 'not_found'),
  route_not_found: code('No route has this path', 'not_found'),
  workspace_not_found: code('The workspace does not exist or the credential cannot act in it', 'not_found'),
  user_not_found: code('No such user', 'not_found'),
  session_not_found: code('No such session of yours', 'not_found'),
  model_not_found: code('No model of that name in this workspace', 'not_found'),
  model_archived: code('The model is archived', 'not_found'),
  version_not_found: code('The model has no such version, alias or servable latest version', 'not_found'),
  version_archived: code(
    'The version is archived (404 to serve it, 409 to point an alias at it)',
    'not_found',
    'conflict',
  ),
  alias_not_found: code('The model has no such alias', 'not_found'),
  api_key_not_found: code('No such API key in this workspace', 'not_found'),
  member_not_found: code('No such member in this workspace', 'not_found'),
  invitation_not_found: code('No such invitation', 'not_found'),
  job_not_found: code('No such job in this workspace', 'not_found'),
  upload_not_found: code('No such upload in this workspace', 'not_found'),
  input_not_found: code('The job’s input is not in R2', 'not_found'),
  trigger_not_found: code('No such trigger in this workspace', 'not_found'),
  webhook_not_found: code('No such webhook endpoint in this workspace', 'not_found'),
  delivery_not_found: code('No such webhook delivery', 'not_found'),
  prediction_not_found: code('No such logged prediction (only sampled predictions are logged)', 'not_found'),
  baseline_not_found: code('The version has no drift baseline', 'not_found'),
  alert_not_found: code('The model has no such alert rule', 'not_found'),
  // 405
  method_not_allowed: code('The path exists but not with this method; see the Allow header', 'method_not_allowed'),
  // 409
  conflict: code('The request conflicts with the current state', 'conflict'),
  model_exists: code('A model of that name exists', 'conflict'),
  duplicate_version: code('The same bytes are already a version of this model', 'conflict'),
  version_has_aliases: code('An alias points at the version', 'conflict'),
  alias_not_split: code('The alias does not split its traffic: there is nothing to promote or roll back', 'conflict'),
  alias_changed: code('The alias changed while the request was judging it; read it and try again', 'conflict'),
  email_taken: code('An account uses that e-mail address', 'conflict'),
  already_member: code('The user is a member already', 'conflict'),
  last_owner: code('A workspace keeps at least one owner', 'conflict'),
  invitation_pending: code('An invitation for that address is pending', 'conflict'),
  invitation_accepted: code('The invitation was accepted already', 'conflict'),
  job_ended: code('The job has ended', 'conflict'),
  job_not_finished: code('The job has not ended yet', 'conflict'),
  feedback_exists: code('The prediction has feedback already', 'conflict'),
  key_limit_reached: code('The workspace holds as many live API keys as it may', 'conflict'),
  baseline_not_ready: code('The baseline is still being captured', 'conflict'),
  alert_limit_reached: code('The model has as many alert rules as it may', 'conflict'),
  // 411, 413, 415, 422
  length_required: code('The body must declare its Content-Length', 'length_required'),
  payload_too_large: code('The body is larger than this route accepts', 'payload_too_large'),
  unsupported_media_type: code('The body has a content type this route does not accept', 'unsupported_media_type'),
  invalid_model: code('The uploaded file is not a model that can be served', 'invalid_model'),
  remote_unreadable: code(
    'The remote Open Inference Protocol server did not describe the model (its answer is in the message)',
    'invalid_model',
  ),
  // 429
  rate_limited: code('A request budget is spent; see Retry-After and the RateLimit-* headers', 'rate_limited'),
  // 500, 502, 503, 504
  internal: code('A fault of the platform; quote the request id when reporting it', 'internal'),
  backend_error: code(
    'The backend serving the version (runner or remote) answered with an error or something unreadable',
    'bad_gateway',
  ),
  backend_unavailable: code(
    'The backend serving the version does not answer, or its circuit is open after repeated failures',
    'unavailable',
  ),
  backend_timeout: code('The backend serving the version did not answer in time', 'gateway_timeout'),
  runner_not_configured: code(
    'The version is served by the runner, which this deployment does not have',
    'unavailable',
  ),
  unavailable: code('The platform cannot serve this now (not configured, or not loadable)', 'unavailable'),
  storage_unavailable: code('A store did not answer; retry after Retry-After', 'unavailable'),
  artifact_missing: code('The version’s model file is missing from storage', 'unavailable'),
  secrets_key_missing: code('SECRETS_ENCRYPTION_KEY is not set: signing secrets cannot be stored', 'unavailable'),
  secrets_key_unknown: code('A stored secret was sealed with a key the server no longer has', 'unavailable'),
  secrets_undecryptable: code('A stored secret does not decrypt (altered, or copied from another row)', 'unavailable'),
} as const satisfies Record<string, CodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes answered with `kind`: what the OpenAPI document enumerates for its status. */
export function codesOfKind(kind: ErrorKind): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) =>
    (ERROR_CODES[c].kinds as readonly ErrorKind[]).includes(kind),
  );
}

/** The codes a given kind may carry: the compiler refuses a 404 code on a 409. */
type CodeOf<K extends ErrorKind> = {
  [C in ErrorCode]: K extends (typeof ERROR_CODES)[C]['kinds'][number] ? C : never;
}[ErrorCode];

interface ErrorOptions<K extends ErrorKind> {
  code?: CodeOf<K>;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options: { code?: ErrorCode; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.code = options.code ?? (kind as ErrorCode);
    this.details = options.details;
  }
}

const factory =
  <K extends ErrorKind>(kind: K) =>
  (message: string, options?: ErrorOptions<K>): DomainError =>
    new DomainError(kind, message, options);

export const invalidInput = factory('invalid_argument');
export const invalidModel = factory('invalid_model');
export const notFound = factory('not_found');
export const methodNotAllowed = factory('method_not_allowed');
export const conflict = factory('conflict');
export const payloadTooLarge = factory('payload_too_large');
export const lengthRequired = factory('length_required');
export const unsupportedMediaType = factory('unsupported_media_type');
export const unauthenticated = factory('unauthenticated');
export const permissionDenied = factory('permission_denied');
export const unavailable = factory('unavailable');
export const badGateway = factory('bad_gateway');
export const gatewayTimeout = factory('gateway_timeout');

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
