// @ts-check
/*
 * What a command gets: its arguments, the output, and an API client made from the settings.
 * A user's access token saved by `login` is renewed here with the saved refresh token.
 */
import { createClient, DEFAULT_TIMEOUT_SECONDS } from './client.mjs';
import { configPath, readConfig, resolveSettings, writeConfig } from './config.mjs';
import { usage } from './errors.mjs';
import { createOutput } from './output.mjs';

/**
 * @typedef {object} Context
 * @property {string[]} args the command's positional arguments
 * @property {Record<string, string | boolean | string[] | undefined>} values its options
 * @property {import('./output.mjs').Output} out
 * @property {import('./config.mjs').Settings} settings
 * @property {NodeJS.ProcessEnv} env
 * @property {string} configFile
 * @property {() => import('./client.mjs').Client} client
 * @property {number} timeoutSeconds how long a request may wait for the server's answer
 */

/**
 * @param {import('./args.mjs').Command} command
 * @param {string[]} args
 * @param {Record<string, string | boolean | string[] | undefined>} values
 * @param {NodeJS.ProcessEnv} env
 * @returns {Context}
 */
export function createContext(command, args, values, env) {
  const out = createOutput({ json: values.json === true, quiet: values.quiet === true });
  // `jobs wait --timeout` is how long to wait for the job; its requests keep the default.
  const ownTimeout = command.options?.timeout !== undefined;
  const timeoutSeconds =
    positiveNumber(ownTimeout ? undefined : values.timeout, 'timeout') ??
    positiveNumber(env.MODELFLARE_TIMEOUT || undefined, 'timeout (MODELFLARE_TIMEOUT)') ??
    DEFAULT_TIMEOUT_SECONDS;
  const configFile = configPath(env);
  const stored = readConfig(configFile);
  const settings = resolveSettings(
    { url: str(values.url), token: str(values.token), workspace: str(values.workspace) },
    env,
    stored,
  );
  /** @type {import('./client.mjs').Client | undefined} */
  let client;

  async function refresh() {
    const current = readConfig(configFile);
    if (!settings.tokenFromFile || !current.refresh_token) return undefined;
    try {
      const tokens = await createClient({ url: settings.url, timeoutSeconds }).request('post', '/v1/auth/refresh', {
        body: { refresh_token: current.refresh_token },
      });
      writeConfig(configFile, { ...current, token: tokens.access_token, refresh_token: tokens.refresh_token });
      return tokens.access_token;
    } catch {
      // The session ended: the 401 that follows says so, and `modelflare login` starts a new one.
      return undefined;
    }
  }

  return {
    args,
    values,
    out,
    settings,
    env,
    configFile,
    client: () =>
      (client ??= createClient({
        url: settings.url,
        token: settings.token,
        workspace: settings.workspace,
        refresh,
        timeoutSeconds,
        notice: out.note,
      })),
    timeoutSeconds,
  };
}

/** @param {unknown} v */
export const str = (v) => (typeof v === 'string' ? v : undefined);

/** @param {unknown} v */
export const list = (v) =>
  (Array.isArray(v) ? v : typeof v === 'string' ? [v] : [])
    .flatMap((s) => String(s).split(','))
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * @param {unknown} v
 * @param {string} name the option, for the error
 * @param {number} [fallback]
 */
export function positiveInt(v, name, fallback) {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw usage(`--${name} takes a positive whole number, not ${String(v)}`);
  return n;
}

/**
 * @param {unknown} v
 * @param {string} name the option, for the error
 */
export function positiveNumber(v, name) {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isFinite(n) || n <= 0)
    throw usage(`--${name} takes a number of seconds, not ${String(v)}`);
  return n;
}

/**
 * The `--limit` option of list commands.
 * @param {number} fallback
 */
export const limitOption = (fallback) => ({
  limit: /** @type {const} */ ({ type: 'string', value: 'N', description: `At most this many (default ${fallback})` }),
});

/**
 * @param {Record<string, unknown>} values
 * @param {number} fallback
 * @returns {number}
 */
export const limitOf = (values, fallback) => positiveInt(values.limit, 'limit', fallback) ?? fallback;

/**
 * Follows `next_cursor` until `limit` items are in hand or there are no more.
 * @template T
 * @param {(cursor: string | undefined, pageSize: number) => Promise<{ items: T[], next: string | null }>} page
 * @param {number} limit
 */
export async function collectPages(page, limit) {
  /** @type {T[]} */
  const items = [];
  /** @type {string | undefined} */
  let cursor;
  for (;;) {
    const result = await page(cursor, Math.min(100, limit - items.length));
    items.push(...result.items);
    if (!result.next || items.length >= limit) return { items: items.slice(0, limit), next_cursor: result.next };
    cursor = result.next;
  }
}
