// @ts-check
/*
 * What can fail before a large body is sent is checked first, with one small request
 * (GET /v1/me: the credential's permissions and the server's body limits), so that a
 * predict-only key or a file over the limit is refused at once instead of after the upload.
 * (`Expect: 100-continue` would do it within the request, but `wrangler dev` never answers it.)
 */
import { CliError, EXIT } from './errors.mjs';
import { formatBytes } from './output.mjs';

/** @typedef {import('../api/types').Schemas['Me']} Me */

/**
 * @param {import('./client.mjs').Client} client
 * @param {object} check
 * @param {import('../api/types').Schemas['Permission']} check.permission what the request needs
 * @param {keyof Me['limits']} check.limit the server's limit on the body
 * @param {number} check.size the body's size in bytes
 * @param {string} check.what the file, for the message
 */
export async function preflight(client, { permission, limit, size, what }) {
  const me = await client.request('get', '/v1/me');
  if (!me.permissions.includes(permission)) {
    const who = me.kind === 'api_key' ? `API key ${me.id}` : me.kind === 'user' ? `${me.email} (${me.role})` : 'admin';
    throw new CliError(
      `${who} lacks the '${permission}' permission this needs (it has ${me.permissions.join(', ') || 'none'}); ${what} was not sent`,
      EXIT.AUTH,
      { permission, permissions: me.permissions },
    );
  }
  // A server from before the limits were published says nothing: it is left to refuse.
  const max = me.limits?.[limit];
  if (max !== undefined && size > max) {
    throw new CliError(
      `${what} is ${formatBytes(size)}, over the server's limit of ${formatBytes(max)} (${String(limit)}); it was not sent`,
      EXIT.API,
      { size_bytes: size, limit_bytes: max },
    );
  }
}
