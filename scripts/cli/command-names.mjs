// @ts-check
/*
 * The names of the commands made from the API's operations (operations.json), with help that
 * the OpenAPI text does not give. Operations that share a name are one command whose last path
 * parameter is optional (`v2 infer <model> [version]`). An operation missing here still gets a
 * command, named from its path (see derivedName), so a new route is never out of reach.
 */

/**
 * @typedef {object} Naming
 * @property {string} name the words that select the command
 * @property {string} [summary] instead of the operation's summary
 * @property {string} [notes] more help
 * @property {Record<string, string>} [flags] a field's flag when its own name would clash (`url` is the server's)
 * @property {boolean} [confirm] destructive: asks on a terminal, needs --yes elsewhere
 */

/** @type {Record<string, Naming>} */
export const COMMAND_NAMES = {
  'GET /v2/health/live': { name: 'health live' },
  'GET /v2/health/ready': { name: 'health ready' },
  'GET /.well-known/jwks.json': { name: 'jwks' },
  'POST /v1/auth/register': {
    name: 'register',
    notes: 'The password is asked for on a terminal, or read from standard input with --password-stdin.',
  },
  'POST /v1/auth/refresh': { name: 'auth refresh' },
  'POST /v1/auth/password': {
    name: 'password change',
    notes:
      'Both passwords are asked for on a terminal, or read from standard input with --password-stdin,\none a line: the current one, then the new one.',
  },
  'GET /v1/auth/sessions': { name: 'sessions list' },
  'DELETE /v1/auth/sessions/{id}': { name: 'sessions end' },
  'POST /v1/users/{user_id}/password-reset': { name: 'password reset-token' },
  'POST /v1/auth/password-reset': {
    name: 'password reset',
    flags: { token: 'reset-token' },
    notes: 'The new password is asked for on a terminal, or read from standard input with --password-stdin.',
  },
  'GET /v1/workspaces': { name: 'workspaces list' },
  'POST /v1/workspaces': { name: 'workspaces create' },
  'GET /v1/workspace': { name: 'workspace show' },
  'PATCH /v1/workspace': { name: 'workspace update' },
  'GET /v1/members': { name: 'members list' },
  'PATCH /v1/members/{user_id}': { name: 'members set-role' },
  'DELETE /v1/members/{user_id}': { name: 'members remove', confirm: true },
  'POST /v1/invitations': { name: 'invitations create' },
  'GET /v1/invitations': { name: 'invitations list' },
  'DELETE /v1/invitations/{id}': { name: 'invitations revoke' },
  'POST /v1/invitations/accept': { name: 'invitations accept', flags: { token: 'invitation-token' } },
  'GET /v1/api-keys/{id}': { name: 'keys show' },
  'GET /v1/audit-log': { name: 'audit-log' },
  'PATCH /v1/models/{name}': {
    name: 'models update',
    notes:
      'Object fields take JSON, e.g. --tags \'{"team": "risk"}\' --cache \'{"enabled": true, "ttl_seconds": 600}\'.',
  },
  'GET /v1/models/{name}/versions': { name: 'models versions' },
  'PATCH /v1/models/{name}/versions/{version}': { name: 'models version update' },
  'GET /v1/models/{name}/versions/{version}/artifact': { name: 'models download' },
  'GET /v2': { name: 'v2 server' },
  'GET /v2/models/{model}': { name: 'v2 model' },
  'GET /v2/models/{model}/versions/{version}': { name: 'v2 model' },
  'GET /v2/models/{model}/ready': { name: 'v2 ready' },
  'GET /v2/models/{model}/versions/{version}/ready': { name: 'v2 ready' },
  'POST /v2/models/{model}/infer': {
    name: 'v2 infer',
    notes:
      'An Open Inference Protocol request, e.g. --inputs \'[{"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]\'.',
  },
  'POST /v2/models/{model}/versions/{version}/infer': { name: 'v2 infer' },
  'GET /v1/triggers/{id}': { name: 'triggers show' },
  'POST /v1/triggers/{id}/rotate-secret': { name: 'triggers rotate-secret' },
  'GET /v1/webhooks/{id}': { name: 'webhooks show' },
  'PATCH /v1/webhooks/{id}': { name: 'webhooks update', flags: { url: 'endpoint-url' } },
  'POST /v1/webhooks/{id}/rotate-secret': { name: 'webhooks rotate-secret' },
  'GET /v1/webhooks/{id}/deliveries': { name: 'webhooks deliveries' },
  'POST /v1/webhooks/{id}/deliveries/{delivery_id}/resend': { name: 'webhooks resend' },
  'GET /v1/models/{name}/aliases/{alias}/series': {
    name: 'aliases series',
    notes: 'A line per route and per shadow version over --window, and the rollout’s changes in it.',
  },
  'GET /metrics': { name: 'metrics' },
  'GET /v1/models/{name}/stats': { name: 'stats' },
  'GET /v1/models/{name}/predictions': { name: 'predictions list' },
  'GET /v1/predictions/{id}': { name: 'predictions show' },
  'POST /v1/predictions/{id}/feedback': {
    name: 'feedback',
    notes: '--actual takes the true label or number (JSON, or a plain word), e.g. --actual versicolor.',
  },
  'GET /v1/models/{name}/performance': { name: 'performance' },
  'PUT /v1/models/{name}/versions/{version}/baseline': {
    name: 'baseline set',
    notes: 'One of --rows JSON (records), --upload-id ID (a JSONL upload, see `uploads create`) or --capture N.',
  },
  'GET /v1/models/{name}/versions/{version}/baseline': { name: 'baseline show' },
  'GET /v1/models/{name}/drift': { name: 'drift show' },
  'GET /v1/models/{name}/drift/history': { name: 'drift history' },
  'POST /v1/models/{name}/drift/check': { name: 'drift check' },
};

const VERBS = { get: 'show', post: 'create', put: 'set', patch: 'update', delete: 'delete' };

/**
 * A command name from an operation's path, for an operation COMMAND_NAMES does not name: its
 * literal segments (without `v1`); a path that ends in a literal after a parameter names an
 * action or a part of something (`POST /v1/alerts/{id}/ack` -> `alerts ack`), any other gets a
 * verb from the method (`GET /v1/alerts` -> `alerts list`, `DELETE /v1/alerts/{id}` -> `alerts
 * delete`). The caller adds the verb where two operations would share a name.
 * @param {string} method
 * @param {string} path
 * @param {boolean} [withVerb]
 */
export function derivedName(method, path, withVerb = false) {
  const segments = path.split('/').filter((s) => s && s !== 'v1' && !s.startsWith('.'));
  const words = segments.filter((s) => !s.startsWith('{')).map((s) => s.replace(/[^a-z0-9-]/gi, '-'));
  const last = segments.at(-1) ?? '';
  const action = !last.startsWith('{') && segments.some((s) => s.startsWith('{'));
  if (action && !withVerb) return words.join(' ');
  const collection = !last.startsWith('{');
  const verb =
    method === 'get' && collection ? 'list' : (/** @type {Record<string, string>} */ (VERBS)[method] ?? method);
  return [...words, verb].join(' ');
}
