// @ts-check
/* login, logout, whoami, and the workspace's API keys. */
import { createClient } from '../client.mjs';
import { readConfig, removeConfig, writeConfig } from '../config.mjs';
import { collectPages, limitOf, limitOption, list, str } from '../context.mjs';
import { usage } from '../errors.mjs';
import { shortTime } from '../output.mjs';
import { promptSecret, readStdin } from '../prompt.mjs';

/** @typedef {import('../args.mjs').Command} Command */
/** @typedef {import('../../api/types').Schemas['Me']} Me */

/**
 * @param {import('../output.mjs').Output} out
 * @param {Me} me
 * @param {string} url
 */
function describeMe(out, me, url) {
  const who =
    me.kind === 'user' ? `${me.email} (${me.role})` : me.kind === 'api_key' ? `API key ${me.id}` : 'the admin';
  out.line(`${who} on ${url}, workspace ${me.workspace_id}`);
  out.line(`permissions: ${me.permissions.join(', ')}`);
}

/** @type {Command[]} */
export const accountCommands = [
  {
    name: 'login',
    group: 'Accounts',
    operations: ['POST /v1/auth/login'],
    summary: 'Check a credential and save it with the server URL for later commands',
    notes: [
      'With --token (or --token-stdin, or MODELFLARE_TOKEN): an admin key or API key.',
      'With --email: signs in with your password (asked for, or read with --password-stdin) and keeps',
      'the session renewed. The file is written readable by you only (0600): $MODELFLARE_CONFIG, else',
      '$XDG_CONFIG_HOME/modelflare/config.json, else ~/.config/modelflare/config.json.',
    ].join('\n'),
    options: {
      email: { type: 'string', value: 'EMAIL', description: 'Sign in as this user' },
      'password-stdin': { type: 'boolean', description: 'Read the password from standard input' },
      'token-stdin': { type: 'boolean', description: 'Read the token from standard input' },
    },
    async run({ values, env, settings, out, configFile, timeoutSeconds }) {
      const url = settings.url;
      const workspace = str(values.workspace) ?? (env.MODELFLARE_WORKSPACE || undefined);
      const email = str(values.email);
      /** @type {string | undefined} */
      let token;
      /** @type {string | undefined} */
      let refreshToken;
      if (email) {
        const password = values['password-stdin']
          ? await readStdin()
          : await promptSecret('password: ', 'read it from standard input with --password-stdin');
        const tokens = await createClient({ url, timeoutSeconds }).request('post', '/v1/auth/login', {
          body: { email, password },
        });
        token = tokens.access_token;
        refreshToken = tokens.refresh_token;
      } else {
        token =
          str(values.token) ??
          (values['token-stdin']
            ? await readStdin()
            : env.MODELFLARE_TOKEN ||
              (await promptSecret('token: ', 'pass --token or --token-stdin, or set MODELFLARE_TOKEN')));
      }
      if (!token) throw usage('no credential: pass --token, --token-stdin, or --email');
      const me = await createClient({ url, token, workspace, timeoutSeconds }).request('get', '/v1/me');
      writeConfig(configFile, { url, token, ...(refreshToken ? { refresh_token: refreshToken } : {}), workspace });
      out.result({ url, config_file: configFile, ...me }, () => {
        describeMe(out, me, url);
        out.note(`saved to ${configFile}`);
      });
    },
  },
  {
    name: 'logout',
    group: 'Accounts',
    operations: ['POST /v1/auth/logout'],
    summary: 'Forget the saved credential (and end the session of a user login)',
    async run({ out, configFile, timeoutSeconds }) {
      const saved = readConfig(configFile);
      if (saved.refresh_token && saved.url && saved.token) {
        // Best effort: the local file goes whatever the server says.
        await createClient({ url: saved.url, token: saved.token, timeoutSeconds })
          .request('post', '/v1/auth/logout', { body: {} })
          .catch(() => undefined);
      }
      removeConfig(configFile);
      out.result({ config_file: configFile, removed: true }, () => out.line(`removed ${configFile}`));
    },
  },
  {
    name: 'whoami',
    group: 'Accounts',
    operations: ['GET /v1/me'],
    summary: 'Show who the credential acts as, in which workspace, with which permissions',
    async run({ client, out, settings }) {
      const me = await client().request('get', '/v1/me');
      out.result(me, () => describeMe(out, me, settings.url));
    },
  },
  {
    name: 'keys create',
    group: 'API keys',
    operations: ['POST /v1/api-keys'],
    summary: 'Create an API key (its secret is printed this once)',
    options: {
      name: { type: 'string', value: 'NAME', description: 'What the key is for (required)' },
      scopes: {
        type: 'string',
        value: 'LIST',
        multiple: true,
        description: 'Comma-separated permissions: models:read, models:write, predict, jobs, admin (required)',
      },
      'expires-at': { type: 'string', value: 'TIME', description: 'When it stops working, e.g. 2027-01-31T00:00:00Z' },
    },
    async run({ client, values, out }) {
      const name = str(values.name);
      const scopes = list(values.scopes);
      if (!name || scopes.length === 0) throw usage('keys create needs --name and --scopes');
      const key = await client().request('post', '/v1/api-keys', {
        body: {
          name,
          scopes: /** @type {import('../../api/types').Schemas['Permission'][]} */ (scopes),
          expires_at: str(values['expires-at']),
        },
      });
      out.result(key, () => {
        out.line(`created ${key.id} "${key.name}" with ${key.scopes.join(', ')}`);
        out.line(`secret (shown this once): ${key.key}`);
      });
    },
  },
  {
    name: 'keys list',
    group: 'API keys',
    operations: ['GET /v1/api-keys'],
    summary: 'List the workspace’s API keys, newest first',
    options: limitOption(100),
    async run({ client, values, out }) {
      const limit = limitOf(values, 100);
      const page = await collectPages(async (cursor, size) => {
        const p = await client().request('get', '/v1/api-keys', { query: { cursor, limit: size } });
        return { items: p.api_keys, next: p.next_cursor };
      }, limit);
      out.result({ api_keys: page.items, next_cursor: page.next_cursor }, ({ api_keys }) =>
        out.table(api_keys, [
          ['id', (k) => k.id],
          ['name', (k) => k.name],
          ['prefix', (k) => k.prefix],
          ['scopes', (k) => k.scopes.join(',')],
          [
            'state',
            (k) =>
              k.revoked_at ? 'revoked' : k.expires_at && Date.parse(k.expires_at) < Date.now() ? 'expired' : 'active',
          ],
          ['last used', (k) => shortTime(k.last_used_at)],
          ['created', (k) => shortTime(k.created_at)],
        ]),
      );
    },
  },
  {
    name: 'keys revoke',
    group: 'API keys',
    operations: ['DELETE /v1/api-keys/{id}'],
    args: '<id>',
    summary: 'Revoke an API key: it stops working at once',
    async run({ client, args, out }) {
      const key = await client().request('delete', '/v1/api-keys/{id}', { params: { id: String(args[0]) } });
      out.result(key, () => out.line(`revoked ${key.id} "${key.name}"`));
    },
  },
];
