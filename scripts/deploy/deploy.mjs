#!/usr/bin/env node
// @ts-check
/*
 * `npm run deploy -- --env staging|production [wrangler deploy options]`: `wrangler deploy`,
 * after checking that the environment's resources were provisioned (no placeholder ids left),
 * so a forgotten step fails here with the fix rather than at Cloudflare.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVIRONMENTS, placeholders, readEnvironment } from './wrangler-config.mjs';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const args = process.argv.slice(2);
const at = args.findIndex((a) => a === '--env' || a === '-e' || a.startsWith('--env='));
const env = at < 0 ? undefined : args[at]?.includes('=') ? args[at]?.split('=')[1] : args[at + 1];

if (!env || !ENVIRONMENTS.includes(env)) {
  console.error(`usage: npm run deploy -- --env ${ENVIRONMENTS.join('|')} [wrangler deploy options, e.g. --dry-run]`);
  process.exit(1);
}
const missing = placeholders(readEnvironment(join(ROOT, 'wrangler.toml'), env));
if (missing.length > 0 && !args.includes('--dry-run')) {
  console.error(
    `[env.${env}] of wrangler.toml still has placeholder ids for: ${missing.join(', ')}.\n` +
      `Create the resources first: npm run provision -- --env ${env}`,
  );
  process.exit(1);
}
const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', ...args], {
  stdio: 'inherit',
  cwd: ROOT,
});
process.exit(result.status ?? 1);
