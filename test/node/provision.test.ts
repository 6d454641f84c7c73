import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from './server';

/*
 * No Cloudflare account is reachable from tests: a fake `wrangler` on PATH answers as the real
 * one does (its snippets carry the new ids), records its calls, and says "already exists" for
 * what it created before.
 */
const FAKE_WRANGLER = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.FAKE_WRANGLER_DIR;
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.log'), args.join(' ') + '\\n');
const made = path.join(dir, 'made.json');
const existing = fs.existsSync(made) ? JSON.parse(fs.readFileSync(made, 'utf8')) : {};
const key = args.slice(0, -1).join(' ') + ' ' + args[args.length - 1];
const remember = () => fs.writeFileSync(made, JSON.stringify({ ...existing, [key]: true }));
const hex = (n, seed) => require('node:crypto').createHash('sha256').update(seed).digest('hex').slice(0, n);
const [a, b, c] = args;
if (a === 'whoami') { console.log('You are logged in with an API Token, associated with the email ci@example.com.'); process.exit(0); }
if (existing[key]) { console.error('✘ [ERROR] A request to the Cloudflare API failed: ' + c + ' already exists [code: 10004]'); process.exit(1); }
if (a === 'd1' && b === 'create') {
  const id = [hex(8, c), hex(4, c + 1), hex(4, c + 2), hex(4, c + 3), hex(12, c + 4)].join('-');
  remember();
  console.log("✅ Successfully created DB '" + c + "'\\nCreated your new D1 database.\\n\\nTo access your new D1 Database in your Worker, add the following snippet to your configuration file:\\n[[d1_databases]]\\nbinding = \\"DB\\"\\ndatabase_name = \\"" + c + "\\"\\ndatabase_id = \\"" + id + "\\"");
} else if (a === 'kv' && b === 'namespace' && c === 'create') {
  remember();
  console.log('🌀 Creating namespace with title "' + args[3] + '"\\n✨ Success!\\nTo access your new KV Namespace in your Worker, add the following snippet to your configuration file:\\n[[kv_namespaces]]\\nbinding = "CACHE"\\nid = "' + hex(32, args[3]) + '"');
} else if ((a === 'r2' && b === 'bucket' && c === 'create') || (a === 'queues' && b === 'create')) {
  remember();
  console.log('✅ Created ' + args[args.length - 1]);
} else { console.error('fake wrangler: unexpected ' + args.join(' ')); process.exit(2); }
`;

let dir: string;
let config: string;

function provision(...args: string[]) {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'scripts/deploy/provision.mjs'), '--config', config, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, FAKE_WRANGLER_DIR: dir, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
    },
  );
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

/** Where a table header starts (not where a comment mentions it). */
const at = (text: string, header: string) => text.search(new RegExp(`^\\[${header.replace(/\./g, '\\.')}\\]$`, 'm'));

const calls = () => readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const ZERO_KV = '00000000000000000000000000000000';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelflare-provision-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin/wrangler'), FAKE_WRANGLER);
  chmodSync(join(dir, 'bin/wrangler'), 0o755);
  config = join(dir, 'wrangler.toml');
  copyFileSync(join(ROOT, 'wrangler.toml'), config);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('provision', () => {
  it('creates the environment’s resources and writes their ids into its section only', () => {
    const before = readFileSync(config, 'utf8');
    const run = provision('--env', 'staging');
    expect(run.code, run.out).toBe(0);
    expect(calls()).toEqual([
      'whoami',
      'd1 create modelflare-staging',
      'kv namespace create modelflare-staging-cache',
      'r2 bucket create modelflare-staging-artifacts',
      'queues create modelflare-staging-batch',
      'queues create modelflare-staging-webhooks',
      'queues create modelflare-staging-batch-dlq',
      'queues create modelflare-staging-webhooks-dlq',
    ]);
    const after = readFileSync(config, 'utf8');
    const staging = after.slice(at(after, 'env.staging'), at(after, 'env.production'));
    expect(staging).toMatch(/database_id = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"/);
    expect(staging).toMatch(/id = "[0-9a-f]{32}"/);
    expect(staging).not.toContain(ZERO_UUID);
    expect(staging).not.toContain(ZERO_KV);
    // The local configuration and production keep their placeholders; nothing else moved.
    const production = after.slice(at(after, 'env.production'));
    expect(production).toContain(ZERO_UUID);
    expect(production).toContain(ZERO_KV);
    expect(after.slice(0, at(after, 'env.staging'))).toBe(before.slice(0, at(before, 'env.staging')));
    expect(after.split('\n').length).toBe(before.split('\n').length);

    expect(run.out).toContain('npx wrangler d1 migrations apply DB --env staging --remote');
    // The next step deploys the worker together with its secrets, never before them.
    expect(run.out).toContain('npm run deploy -- --env staging --new-secrets');
    expect(run.out).not.toContain('wrangler secret put');

    // Run again: the ids are set, so D1 and KV are left alone; existing buckets and queues are kept.
    const again = provision('--env', 'staging');
    expect(again.code, again.out).toBe(0);
    expect(calls().slice(8)).not.toContain('d1 create modelflare-staging');
    expect(again.out).toContain('(exists already: kept)');
    expect(readFileSync(config, 'utf8')).toBe(after);
  });

  it('changes nothing in a dry run, and refuses an unknown environment', () => {
    const before = readFileSync(config, 'utf8');
    const dry = provision('--env', 'production', '--dry-run');
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toContain('$ wrangler d1 create modelflare-production');
    expect(dry.out).toContain('$ wrangler queues create modelflare-production-webhooks-dlq');
    expect(readFileSync(config, 'utf8')).toBe(before);
    expect(() => readFileSync(join(dir, 'calls.log'))).toThrow();

    const unknown = provision('--env', 'moon');
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('usage: npm run provision -- --env staging|production');
  });
});
