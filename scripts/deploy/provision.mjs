#!/usr/bin/env node
// @ts-check
/*
 * `npm run provision -- --env staging|production`: creates the Cloudflare resources that
 * environment of wrangler.toml names (D1 database, R2 bucket, KV namespace, queues and their
 * dead-letter queues) with wrangler, writes the new ids over that environment's placeholders,
 * and prints what is left to do: remote migrations, secrets, deploy. Safe to run again: what
 * exists is kept. Needs `npx wrangler login` (or CLOUDFLARE_API_TOKEN) first.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ENVIRONMENTS, isPlaceholder, readEnvironment, withIds } from './wrangler-config.mjs';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const EXISTS = /already exists|already taken|already in use|you own it/i;

const { values } = parseArgs({
  options: {
    env: { type: 'string' },
    config: { type: 'string', default: join(ROOT, 'wrangler.toml') },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
const env = values.env ?? '';
const configPath = resolve(values.config ?? 'wrangler.toml');
const dryRun = values['dry-run'] === true;

if (values.help || !ENVIRONMENTS.includes(env)) {
  console.log(`usage: npm run provision -- --env ${ENVIRONMENTS.join('|')} [--config wrangler.toml] [--dry-run]

Creates the D1 database, R2 bucket, KV namespace and queues that [env.<env>] of wrangler.toml
names, in the Cloudflare account wrangler is logged in to, and writes their ids into that
section. --dry-run prints the wrangler commands without running them or changing the file.`);
  process.exit(values.help ? 0 : 1);
}

/**
 * Runs `wrangler …` (the one on PATH, else the project's), answering its output.
 * @param {string[]} args
 * @param {{ allowExisting?: boolean }} [options]
 */
function wrangler(args, options = {}) {
  console.log(`$ wrangler ${args.join(' ')}`);
  if (dryRun) return { ok: true, existed: false, output: '' };
  const result = spawnSync('wrangler', args, {
    encoding: 'utf8',
    stdio: ['inherit', 'pipe', 'pipe'],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      PATH: [process.env.PATH, join(ROOT, 'node_modules/.bin')].filter(Boolean).join(delimiter),
    },
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error) fail(`cannot run wrangler: ${result.error.message}`);
  if (result.status === 0) {
    if (output.trim()) console.log(indent(output));
    return { ok: true, existed: false, output };
  }
  if (options.allowExisting && EXISTS.test(output)) {
    console.log('  (exists already: kept)');
    return { ok: true, existed: true, output };
  }
  fail(`wrangler ${args.join(' ')} failed:\n${indent(output)}`);
  return { ok: false, existed: false, output };
}

/** @param {string} message */
function fail(message) {
  console.error(`\nprovision: ${message}`);
  process.exit(1);
}

/** @param {string} text */
const indent = (text) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

/**
 * The id in wrangler's "add this to your config" snippet (TOML or JSON).
 * @param {string} output
 * @param {string} key
 * @param {RegExp} shape
 */
function idFrom(output, key, shape) {
  const match = new RegExp(`"?${key}"?\\s*[=:]\\s*"(${shape.source})"`).exec(output);
  return match?.[1];
}

const environment = readEnvironment(configPath, env);
console.log(`provisioning [env.${env}] of ${configPath} (worker ${environment.name})${dryRun ? ', dry run' : ''}\n`);

const whoami = wrangler(['whoami']);
if (/not authenticated|not logged in/i.test(whoami.output)) {
  fail('wrangler is not logged in: run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID');
}

/** @type {{ d1: Record<string, string>, kv: Record<string, string> }} */
const ids = { d1: {}, kv: {} };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const HEX32 = /[0-9a-f]{32}/;

for (const db of environment.d1) {
  if (!isPlaceholder(db.id)) {
    console.log(`D1 database ${db.name}: ${db.id} (set already)`);
    continue;
  }
  const created = wrangler(['d1', 'create', db.name], { allowExisting: true });
  let id = created.existed ? undefined : idFrom(created.output, 'database_id', UUID);
  if (created.existed) {
    const list = JSON.parse(wrangler(['d1', 'list', '--json']).output || '[]');
    id = list.find((/** @type {{ name: string, uuid: string }} */ d) => d.name === db.name)?.uuid;
  }
  if (!dryRun && !id) fail(`could not read the id of D1 database ${db.name} from wrangler's output`);
  if (id) ids.d1[db.binding] = id;
}

for (const kv of environment.kv) {
  const title = `${environment.name}-${kv.binding.toLowerCase()}`;
  if (!isPlaceholder(kv.id)) {
    console.log(`KV namespace ${title}: ${kv.id} (set already)`);
    continue;
  }
  const created = wrangler(['kv', 'namespace', 'create', title], { allowExisting: true });
  let id = created.existed ? undefined : idFrom(created.output, 'id', HEX32);
  if (created.existed) {
    const list = JSON.parse(wrangler(['kv', 'namespace', 'list']).output || '[]');
    id = list.find((/** @type {{ title: string, id: string }} */ n) => n.title === title)?.id;
  }
  if (!dryRun && !id) fail(`could not read the id of KV namespace ${title} from wrangler's output`);
  if (id) ids.kv[kv.binding] = id;
}

for (const bucket of environment.r2) wrangler(['r2', 'bucket', 'create', bucket], { allowExisting: true });
for (const queue of environment.queues) wrangler(['queues', 'create', queue], { allowExisting: true });

if (Object.keys(ids.d1).length + Object.keys(ids.kv).length > 0 && !dryRun) {
  writeFileSync(configPath, withIds(readFileSync(configPath, 'utf8'), env, ids));
  console.log(`\nwrote the new ids into [env.${env}] of ${configPath}: commit it`);
}

const binding = environment.d1[0]?.binding ?? 'DB';
console.log(`
next steps for ${env}:
  1. create the tables:   npx wrangler d1 migrations apply ${binding} --env ${env} --remote
  2. deploy the worker together with new secrets (kept in .secrets/${env}.env, mode 0600; its
     ADMIN_API_KEY is the platform administrator's credential: keep it):
       npm run deploy -- --env ${env} --new-secrets
     (or --secrets-file FILE with your own ADMIN_API_KEY, JWT_SECRET, SECRETS_ENCRYPTION_KEY)
  3. check it:            grep ADMIN_API_KEY .secrets/${env}.env | cut -d= -f2 \\
                            | npm run cli -- login --token-stdin --url https://${environment.name}.<your-subdomain>.workers.dev
`);
