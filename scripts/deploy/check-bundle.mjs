#!/usr/bin/env node
// @ts-check
/*
 * Part of `npm test`: bundles the worker exactly as `wrangler deploy` would (`--dry-run
 * --outdir`, nothing is uploaded) and fails when the upload is over the Workers size limit,
 * printing its size. The limit is checked on the gzip size, as Cloudflare does. It also checks
 * that wrangler accepted the native runner's container and its Durable Object binding.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const KiB = 1024;
/** Workers Paid: 10 MB after compression (the Free plan allows 3 MB). */
export const LIMIT_GZIP_BYTES = 10 * KiB * KiB;
const FREE_PLAN_GZIP_BYTES = 3 * KiB * KiB;

const env = process.argv[2] ?? 'production';
const outdir = mkdtempSync(join(tmpdir(), 'modelflare-bundle-'));
try {
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir, '--env', env],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } },
  );
  if (run.status !== 0) {
    console.error(`check-bundle: wrangler deploy --dry-run failed:\n${run.stdout}${run.stderr}`);
    process.exit(1);
  }
  // What wrangler uploads: the modules it wrote, not its source map or README.
  const modules = readdirSync(outdir).filter((f) => !f.endsWith('.map') && f !== 'README.md');
  let raw = 0;
  let gzip = 0;
  for (const file of modules) {
    const bytes = readFileSync(join(outdir, file));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(run.stdout);
  const measured = Math.max(gzip, reported ? Number(reported[2]) * KiB : 0);
  const mib = (/** @type {number} */ n) => `${(n / KiB / KiB).toFixed(2)} MiB`;
  console.log(
    `worker bundle (--env ${env}): ${modules.length} modules, ${mib(raw)}, gzip ${mib(measured)}` +
      ` of the ${mib(LIMIT_GZIP_BYTES)} limit (${Math.round((measured / LIMIT_GZIP_BYTES) * 100)}%)` +
      (reported ? `; wrangler reports ${reported[1]} KiB / gzip ${reported[2]} KiB` : ''),
  );
  if (measured > FREE_PLAN_GZIP_BYTES) {
    console.log(`  (over the Workers Free plan's ${mib(FREE_PLAN_GZIP_BYTES)}: deploying needs Workers Paid)`);
  }
  if (measured > LIMIT_GZIP_BYTES) {
    console.error(`check-bundle: the worker is over the Workers size limit`);
    process.exitCode = 1;
  }
  // The native runner's container and the Durable Object class that drives it (wrangler.toml).
  const container = /^- (\S+) \((\S+)\)$/m.exec(run.stdout);
  if (!/env\.RUNNER \(RunnerContainer\)\s+Durable Object/.test(run.stdout) || !container) {
    console.error(`check-bundle: --env ${env} declares no runner container bound as RUNNER (RunnerContainer)`);
    process.exitCode = 1;
  } else {
    console.log(`  runner: container ${container[1]} (${container[2]}), Durable Object RUNNER (RunnerContainer)`);
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
