#!/usr/bin/env node
// @ts-check
/*
 * `npm run deploy -- --env staging|production [--new-secrets | --secrets-file FILE] [wrangler
 * deploy options]`: `wrangler deploy`, after checking that the environment's resources were
 * provisioned (no placeholder ids left) and that the worker will go live with its secrets.
 *
 * A version goes live together with its secrets (`wrangler deploy --secrets-file`), never before
 * them: the first deploy needs --new-secrets (made here, kept in .secrets/<env>.env beside
 * wrangler.toml, readable by its owner only) or a --secrets-file of your own; a later deploy without either first asks
 * Cloudflare which secrets the worker has, and stops, deploying nothing, if one is missing.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readVars, SECRET_MAKERS } from '../lib/dev-vars.mjs';
import { ENVIRONMENTS, placeholders, readEnvironment } from './wrangler-config.mjs';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** Without these the platform has no administrator, or cannot keep webhook and trigger secrets. */
export const REQUIRED_SECRETS = ['ADMIN_API_KEY', 'SECRETS_ENCRYPTION_KEY'];
/** Signs users' access tokens; without one of them accounts are off (allowed, but said). */
const TOKEN_SECRETS = ['JWT_SECRET', 'JWT_PRIVATE_KEY'];

/** @param {string} message */
function fail(message) {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

/**
 * Removes `--name VALUE` / `--name=VALUE` (or a boolean `--name`) from args; answers its value.
 * @param {string[]} args
 * @param {string} name
 * @param {boolean} [takesValue]
 */
function takeOption(args, name, takesValue = true) {
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return undefined;
  const [arg] = args.splice(at, 1);
  if (!takesValue) return 'true';
  if (arg?.includes('=')) return arg.slice(arg.indexOf('=') + 1);
  const [value] = args.splice(at, 1);
  if (value === undefined || value.startsWith('--')) fail(`--${name} needs a value`);
  return value;
}

/**
 * Runs `wrangler …` (the one on PATH, else the project's).
 * @param {string[]} args
 * @param {'inherit' | 'pipe'} stdio
 */
function wrangler(args, stdio) {
  const result = spawnSync('wrangler', args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['inherit', stdio, stdio],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      PATH: [process.env.PATH, join(ROOT, 'node_modules/.bin')].filter(Boolean).join(delimiter),
    },
  });
  if (result.error) fail(`cannot run wrangler: ${result.error.message}`);
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/**
 * A secrets file as `wrangler deploy --secrets-file` reads it: JSON, or .env lines.
 * @param {string} path
 * @returns {Record<string, string>}
 */
function readSecretsFile(path) {
  if (!existsSync(path)) fail(`no secrets file at ${path}`);
  const text = readFileSync(path, 'utf8');
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch (err) {
      fail(`${path} is not valid JSON: ${/** @type {Error} */ (err).message}`);
    }
  }
  return readVars(path);
}

/**
 * What is wrong with the secrets a file gives (a value the worker would refuse), if anything.
 * @param {Record<string, string>} secrets
 */
function invalidSecrets(secrets) {
  const problems = [];
  const admin = secrets.ADMIN_API_KEY;
  if (admin !== undefined && admin.length < 32) problems.push('ADMIN_API_KEY must be at least 32 characters');
  const key = secrets.SECRETS_ENCRYPTION_KEY;
  if (key !== undefined && Buffer.from(key, 'base64').length !== 32) {
    problems.push('SECRETS_ENCRYPTION_KEY must be 32 bytes, base64');
  }
  if (secrets.JWT_SECRET !== undefined && secrets.JWT_SECRET.length < 32) {
    problems.push('JWT_SECRET must be at least 32 characters');
  }
  return problems;
}

/**
 * The names of the secrets the deployed worker has, or undefined when it does not exist yet.
 * @param {string} env
 * @param {string[]} configArgs
 */
function deployedSecrets(env, configArgs) {
  const listed = wrangler(['secret', 'list', '--env', env, '--format', 'json', ...configArgs], 'pipe');
  if (listed.status !== 0) {
    if (/does not exist|not found|\[code: 10007\]/i.test(listed.output)) return undefined;
    fail(`cannot list the worker's secrets (wrangler secret list --env ${env}):\n${listed.output.trim()}`);
  }
  // The JSON array starts a line of its own, after any banner or warning wrangler prints.
  const start = listed.output.search(/^\[\s*(\{|\])/m);
  try {
    return /** @type {{ name: string }[]} */ (JSON.parse(listed.output.slice(start))).map((s) => s.name);
  } catch {
    return fail(`cannot read wrangler secret list's answer:\n${listed.output.trim()}`);
  }
}

/**
 * Makes a new secrets file for the environment; refuses to replace one (it holds the admin key).
 * @param {string} path
 */
function newSecretsFile(path) {
  if (existsSync(path)) {
    fail(`${path} exists already (it holds the admin key): deploy with --secrets-file ${path}, or move it away`);
  }
  const secrets = Object.fromEntries(Object.entries(SECRET_MAKERS).map(([name, make]) => [name, make()]));
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const lines = Object.entries(secrets).map(([name, value]) => `${name}=${value}`);
  writeFileSync(path, `# secrets of the deployed worker; keep them (git-ignored)\n${lines.join('\n')}\n`, {
    mode: 0o600,
  });
  chmodSync(path, 0o600);
  return path;
}

const args = process.argv.slice(2);
const envAt = args.findIndex((a) => a === '--env' || a === '-e' || a.startsWith('--env='));
const env = envAt < 0 ? undefined : args[envAt]?.includes('=') ? args[envAt]?.split('=')[1] : args[envAt + 1];
if (!env || !ENVIRONMENTS.includes(env)) {
  console.error(
    `usage: npm run deploy -- --env ${ENVIRONMENTS.join('|')} [--new-secrets | --secrets-file FILE] [wrangler deploy options, e.g. --dry-run]`,
  );
  process.exit(1);
}
const newSecrets = takeOption(args, 'new-secrets', false) !== undefined;
let secretsFile = takeOption(args, 'secrets-file');
const dryRun = args.includes('--dry-run');
const configAt = args.findIndex((a) => a === '--config' || a === '-c');
const configPath = configAt >= 0 ? resolve(String(args[configAt + 1])) : join(ROOT, 'wrangler.toml');
const configArgs = configAt >= 0 ? ['--config', configPath] : [];

const missing = placeholders(readEnvironment(configPath, env));
if (missing.length > 0 && !dryRun) {
  fail(
    `[env.${env}] of wrangler.toml still has placeholder ids for: ${missing.join(', ')}.\n` +
      `Create the resources first: npm run provision -- --env ${env}`,
  );
}

if (!dryRun) {
  if (newSecrets && secretsFile) fail('pass --new-secrets or --secrets-file, not both');
  if (newSecrets) secretsFile = newSecretsFile(join(dirname(configPath), '.secrets', `${env}.env`));
  const given = secretsFile ? readSecretsFile(secretsFile) : {};
  const problems = invalidSecrets(given);
  if (problems.length > 0) fail(`${secretsFile}: ${problems.join('; ')}`);
  const have = new Set(Object.keys(given));
  const lacking = () => REQUIRED_SECRETS.filter((name) => !have.has(name));
  // Only what the file lacks needs to be on Cloudflare already.
  if (lacking().length > 0 || !TOKEN_SECRETS.some((n) => have.has(n))) {
    const deployed = deployedSecrets(env, configArgs);
    for (const name of deployed ?? []) have.add(name);
    if (deployed === undefined && lacking().length > 0) {
      fail(
        `the worker of [env.${env}] does not exist yet, and deploying it now would put it live without ` +
          `${lacking().join(' and ')}.\nDeploy it with its secrets: npm run deploy -- --env ${env} --new-secrets ` +
          '(makes them and keeps them in .secrets/), or --secrets-file FILE (.env or JSON) with your own.',
      );
    }
    if (lacking().length > 0) {
      fail(
        `the worker of [env.${env}] has no ${lacking().join(' and ')}: nothing was deployed.\n` +
          `Deploy with --secrets-file FILE holding ${lacking().join(' and ')}, or set them first with ` +
          `npx wrangler secret put NAME --env ${env}.`,
      );
    }
  }
  if (!TOKEN_SECRETS.some((n) => have.has(n))) {
    console.warn(`deploy: no JWT_SECRET or JWT_PRIVATE_KEY: user accounts are off; the admin key and API keys work`);
  }
  if (newSecrets) {
    console.log(
      `deploy: new secrets in ${secretsFile} (mode 0600); its ADMIN_API_KEY is the administrator's key: keep it`,
    );
  }
}

const result = wrangler(
  ['deploy', ...args, ...(secretsFile && !dryRun ? ['--secrets-file', secretsFile] : [])],
  'inherit',
);
process.exit(result.status);
