// @ts-check
/*
 * Where the CLI finds its server and credential: flags, then MODELFLARE_URL / MODELFLARE_TOKEN /
 * MODELFLARE_WORKSPACE, then the file `modelflare login` writes (readable by its owner only).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './errors.mjs';

export const DEFAULT_URL = 'http://127.0.0.1:8787';

/**
 * @typedef {object} StoredConfig
 * @property {string} [url]
 * @property {string} [token] an admin key, an API key or a user's access token
 * @property {string} [refresh_token] with a user's access token: renews it when it expires
 * @property {string} [workspace]
 */

/** @param {NodeJS.ProcessEnv} env */
export function configPath(env) {
  if (env.MODELFLARE_CONFIG) return env.MODELFLARE_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'modelflare', 'config.json');
}

/**
 * @param {string} path
 * @returns {StoredConfig}
 */
export function readConfig(path) {
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${/** @type {Error} */ (err).message}`, EXIT.USAGE);
  }
}

/**
 * Writes the file readable and writable by its owner only: it holds a credential.
 * @param {string} path
 * @param {StoredConfig} config
 */
export function writeConfig(path, config) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // A new file, 0600 from its first byte, then renamed over the old one: the credential is
  // never readable by others, and never half written.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** @param {string} path */
export function removeConfig(path) {
  rmSync(path, { force: true });
}

/**
 * @typedef {object} Settings
 * @property {string} url
 * @property {string | undefined} token
 * @property {string | undefined} workspace
 * @property {boolean} tokenFromFile whether the token came from the config file (and may be renewed there)
 */

/**
 * @param {{ url?: string, token?: string, workspace?: string }} flags
 * @param {NodeJS.ProcessEnv} env
 * @param {StoredConfig} file
 * @returns {Settings}
 */
export function resolveSettings(flags, env, file) {
  const token = flags.token ?? (env.MODELFLARE_TOKEN || undefined);
  const url = flags.url ?? (env.MODELFLARE_URL || file.url || DEFAULT_URL);
  try {
    new URL(url);
  } catch {
    throw new CliError(`not a URL: ${url}`, EXIT.USAGE);
  }
  // The saved credential belongs to the saved server: never send it anywhere else.
  const fileApplies = file.url !== undefined && sameOrigin(file.url, url);
  const fileToken = fileApplies ? file.token : undefined;
  return {
    url,
    token: token ?? fileToken,
    workspace: flags.workspace ?? (env.MODELFLARE_WORKSPACE || (fileApplies ? file.workspace : undefined)),
    tokenFromFile: token === undefined && fileToken !== undefined,
  };
}

/**
 * @param {string} a
 * @param {string} b
 */
function sameOrigin(a, b) {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
