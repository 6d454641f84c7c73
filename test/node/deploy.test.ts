import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withIds } from '../../scripts/deploy/wrangler-config.mjs';
import { ROOT } from './server';

/*
 * No Cloudflare account is reachable from tests: a fake `wrangler` on PATH records its calls
 * (with the secrets file's names, not its values) and answers `secret list` from
 * FAKE_SECRETS: `missing` (the worker does not exist) or a comma-separated list of names.
 */
const FAKE_WRANGLER = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.FAKE_WRANGLER_DIR;
const args = process.argv.slice(2);
const at = args.indexOf('--secrets-file');
const shown = at < 0 ? args : [...args.slice(0, at + 1), 'FILE:' + Object.keys(readSecrets(args[at + 1])).sort().join(','), ...args.slice(at + 2)];
fs.appendFileSync(path.join(dir, 'calls.log'), shown.join(' ') + '\\n');
function readSecrets(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (text.trim().startsWith('{')) return JSON.parse(text);
  return Object.fromEntries(text.split('\\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
if (args[0] === 'secret' && args[1] === 'list') {
  const secrets = process.env.FAKE_SECRETS;
  console.log(' ⛅️ wrangler 4.86.0\\n[WARNING] a banner line with brackets');
  if (secrets === 'missing') { console.error('✘ [ERROR] This Worker does not exist on your account. [code: 10007]'); process.exit(1); }
  console.log(JSON.stringify(secrets.split(',').filter(Boolean).map((name) => ({ name, type: 'secret_text' })), null, 2));
  process.exit(0);
}
if (args[0] === 'deploy') { console.log('Deployed modelflare-staging'); process.exit(0); }
console.error('fake wrangler: unexpected ' + args.join(' ')); process.exit(2);
`;

let dir: string;
let config: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelflare-deploy-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin/wrangler'), FAKE_WRANGLER);
  chmodSync(join(dir, 'bin/wrangler'), 0o755);
  config = join(dir, 'wrangler.toml');
  // Provisioned: real-looking ids in [env.staging].
  const ids = { d1: { DB: '0123abcd-0123-4567-89ab-0123456789ab' }, kv: { CACHE: 'f'.repeat(32) } };
  writeFileSync(config, withIds(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'), 'staging', ids));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deploy(secrets: string, ...args: string[]) {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'scripts/deploy/deploy.mjs'), '--env', 'staging', '--config', config, ...args],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        FAKE_WRANGLER_DIR: dir,
        FAKE_SECRETS: secrets,
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      },
    },
  );
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

const calls = () =>
  existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n') : [];
const deployCalls = () => calls().filter((c) => c.startsWith('deploy'));

describe('deploy', () => {
  it('refuses to put a new worker live without its secrets, and deploys nothing', () => {
    const run = deploy('missing');
    expect(run.code).toBe(1);
    expect(run.out).toContain('does not exist yet, and deploying it now would put it live without ADMIN_API_KEY');
    expect(run.out).toContain('npm run deploy -- --env staging --new-secrets');
    expect(calls()).toEqual([`secret list --env staging --format json --config ${config}`]);
  });

  it('makes new secrets, keeps them readable by their owner only, and deploys the worker with them', () => {
    const run = deploy('missing', '--new-secrets');
    expect(run.code, run.out).toBe(0);
    const file = join(dir, '.secrets/staging.env');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^ADMIN_API_KEY=mf_admin_[0-9a-f]{48}$/m);
    expect(text).toMatch(/^JWT_SECRET=\S{43}$/m);
    expect(Buffer.from(/^SECRETS_ENCRYPTION_KEY=(\S+)$/m.exec(text)![1]!, 'base64')).toHaveLength(32);
    // One call: the version and its secrets go live together; the values are never printed.
    expect(deployCalls()).toEqual([
      `deploy --env staging --config ${config} --secrets-file FILE:ADMIN_API_KEY,JWT_SECRET,RUNNER_TOKEN,SECRETS_ENCRYPTION_KEY`,
    ]);
    expect(/^RUNNER_TOKEN=(\S+)$/m.exec(text)![1]!.length).toBeGreaterThanOrEqual(32);
    expect(run.out).not.toContain(/^ADMIN_API_KEY=(\S+)$/m.exec(text)![1]);

    // Never replaced: the file holds the administrator's key.
    const again = deploy('ADMIN_API_KEY,JWT_SECRET,SECRETS_ENCRYPTION_KEY', '--new-secrets');
    expect(again.code).toBe(1);
    expect(again.out).toContain('exists already (it holds the admin key)');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('deploys a worker that has its secrets as it is, and stops one that lacks any', () => {
    const ready = deploy('ADMIN_API_KEY,JWT_SECRET,SECRETS_ENCRYPTION_KEY');
    expect(ready.code, ready.out).toBe(0);
    expect(deployCalls()).toEqual([`deploy --env staging --config ${config}`]);

    const lacking = deploy('ADMIN_API_KEY,JWT_SECRET');
    expect(lacking.code).toBe(1);
    expect(lacking.out).toContain('has no SECRETS_ENCRYPTION_KEY: nothing was deployed');
    expect(deployCalls()).toHaveLength(1);

    // Accounts off is allowed, and said.
    const noJwt = deploy('ADMIN_API_KEY,SECRETS_ENCRYPTION_KEY');
    expect(noJwt.code).toBe(0);
    expect(noJwt.out).toContain('no JWT_SECRET or JWT_PRIVATE_KEY: user accounts are off');
  });

  it('takes a secrets file of your own (.env or JSON), with what the worker already has', () => {
    const json = join(dir, 'secrets.json');
    writeFileSync(json, JSON.stringify({ SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }));
    // The file lacks the admin key: the new worker would go live without it.
    const refused = deploy('missing', '--secrets-file', json);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('put it live without ADMIN_API_KEY');
    // An existing worker has it already: the file adds the rest.
    const added = deploy('ADMIN_API_KEY,JWT_SECRET', '--secrets-file', json);
    expect(added.code, added.out).toBe(0);
    expect(deployCalls()).toEqual([
      `deploy --env staging --config ${config} --secrets-file FILE:SECRETS_ENCRYPTION_KEY`,
    ]);

    const weak = join(dir, 'weak.env');
    writeFileSync(weak, 'ADMIN_API_KEY=short\nSECRETS_ENCRYPTION_KEY=bm90MzJieXRlcw==\n');
    const invalid = deploy('missing', '--secrets-file', weak);
    expect(invalid.code).toBe(1);
    expect(invalid.out).toContain('ADMIN_API_KEY must be at least 32 characters');
    expect(invalid.out).toContain('SECRETS_ENCRYPTION_KEY must be 32 bytes, base64');
    expect(deployCalls()).toHaveLength(1);
  });

  it('passes a dry run straight through, and refuses placeholder ids', () => {
    const dry = deploy('missing', '--dry-run', '--outdir', join(dir, 'dist'));
    expect(dry.code, dry.out).toBe(0);
    expect(calls()).toEqual([`deploy --env staging --config ${config} --dry-run --outdir ${join(dir, 'dist')}`]);

    writeFileSync(config, readFileSync(join(ROOT, 'wrangler.toml')));
    const unprovisioned = deploy('missing', '--new-secrets');
    expect(unprovisioned.code).toBe(1);
    expect(unprovisioned.out).toContain('npm run provision -- --env staging');
    expect(existsSync(join(dir, '.secrets'))).toBe(false);
  });
});
