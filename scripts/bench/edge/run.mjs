#!/usr/bin/env node
// `npm run bench:edge`: the latency model. Serves the production worker on workerd (Miniflare's
// API, no dev proxy) behind a bench-only entry that delays every binding call by a round trip
// per kind (worker.ts, bindings.ts), then drives V2 infer at fixed rates, open loop, once with
// the delays off and once on, and times the first prediction of new isolates both ways.
// Writes bench/edge.json and bench/edge.md, prints the tables and the targets of issue 19.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { check } from '../setup.mjs';
import { HOT_BASE } from './load.mjs';
import { KINDS, renderMarkdown, summarizeCell, summarizeCold, targets } from './report.mjs';
import { delayVars, edgeStats, setDelays, startEdgeServer } from './setup.mjs';

const { values: opts } = parseArgs({
  options: {
    d1: { type: 'string', default: '150' },
    do: { type: 'string', default: '150' },
    kv: { type: 'string', default: '20' },
    r2: { type: 'string', default: '50' },
    cache: { type: 'string', default: '0' },
    queue: { type: 'string', default: '0' },
    quick: { type: 'boolean', default: false },
    levels: { type: 'string' },
    'cold-reps': { type: 'string' },
    repeat: { type: 'string', default: '0.75' },
    hot: { type: 'string', default: '16' },
    window: { type: 'string', default: '5' },
    model: { type: 'string', default: 'iris' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});

/** A number within [min, max], or the run stops before it starts, naming the option. */
function numberOpt(name, { min = 0, max = Infinity, integer = false } = {}) {
  const value = Number(opts[name]);
  if (
    opts[name] === '' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    console.error(
      `--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min}${max < Infinity ? ` to ${max}` : ' up'}, not '${opts[name]}'`,
    );
    process.exit(2);
  }
  return value;
}

const quick = opts.quick;
/** The delays of the `on` setting, ms per round trip. */
const DELAYS = {
  D1: numberOpt('d1'),
  DO: numberOpt('do'),
  KV: numberOpt('kv'),
  R2: numberOpt('r2'),
  CACHE: numberOpt('cache'),
  QUEUE: numberOpt('queue'),
};
const OFF = Object.fromEntries(KINDS.map((k) => [k, 0]));
const REPEAT = numberOpt('repeat', { max: 1 });
const HOT = numberOpt('hot', { min: 1, integer: true });
/** The credential and served-version caches' refresh interval (CREDENTIAL_/REGISTRY_CACHE_TTL_SECONDS). */
const WINDOW_S = numberOpt('window', { min: 1 });
const SEED = numberOpt('seed', { min: 1, integer: true });
const COLD_REPS = opts['cold-reps'] === undefined ? (quick ? 3 : 5) : numberOpt('cold-reps', { min: 1, integer: true });

/**
 * rate:seconds pairs: 1 req/s for 60 s, 20 for 30, 200 for 10. Quick: 10, 5 and 6 s, the last
 * longer than a cache refresh interval so the D1 queries of a refresh show.
 */
function parseLevels(text) {
  const levels = text.split(',').map((pair) => {
    const [rate, seconds] = pair.split(':').map(Number);
    if (!(rate > 0) || !(seconds > 0)) {
      console.error(`--levels takes rate:seconds pairs such as 1:60,20:30,200:10, not '${text}'`);
      process.exit(2);
    }
    return { rate, durationS: seconds };
  });
  return levels;
}
const LEVELS = parseLevels(opts.levels ?? (quick ? '1:10,20:5,200:6' : '1:60,20:30,200:10'));

const outDir = opts.out ?? (quick ? join('bench', 'out', 'quick') : 'bench');
const work = join('bench', 'out', 'edge');
mkdirSync(work, { recursive: true });
mkdirSync(outDir, { recursive: true });
const persistDir = mkdtempSync(join(tmpdir(), 'modelflare-edge-'));
const adminKey = `mf_admin_${randomBytes(24).toString('hex')}`;
const children = [];
let server;

function cleanup() {
  for (const child of children) if (child.exitCode === null) child.kill();
  rmSync(persistDir, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

/** The load client, in its own process so its timers are not held up by this one. */
function loadClient() {
  const child = fork(new URL('./load.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  return (job) =>
    new Promise((resolve, reject) => {
      child.once('message', (reply) => (reply.ok ? resolve(reply.result) : reject(new Error(reply.error))));
      child.send(job);
    });
}

/** workerd's stdout is the access log: dropped, as a log pipeline would ship it away. */
function drainStdio(stdout, stderr) {
  stdout.resume();
  stderr.on('data', (chunk) => process.stderr.write(chunk));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const started = performance.now();
  console.log('building the production bundle and the edge bundle (wrangler deploy --dry-run)…');
  const setup = await startEdgeServer({
    work,
    persistDir,
    token: adminKey,
    delays: OFF,
    modelName: opts.model,
    stdio: drainStdio,
  });
  server = setup.server;
  const { model, predictKey } = setup;
  console.log(`workerd (Miniflare API, no dev proxy) on ${server.url}; model ${model.name}`);
  const headers = { authorization: `Bearer ${predictKey}`, 'content-type': 'application/json' };
  const inferUrl = () => `${server.url}/v2/models/${model.name}/infer`;

  // Inputs: the model's example with its last number replaced (load.mjs, bodyMaker).
  let fresh = 0;
  const bodyWith = (last) => {
    const inputs = JSON.parse(JSON.stringify(model.inputs));
    inputs[0].data[inputs[0].data.length - 1] = last;
    return JSON.stringify({ inputs });
  };
  const freshBody = () => bodyWith(1 + fresh++ / 2 ** 20);
  const predict = async (body) => {
    const t0 = performance.now();
    const res = await fetch(inferUrl(), { method: 'POST', headers, body });
    const text = await res.text();
    const ms = performance.now() - t0;
    check(res.status === 200, `prediction: ${res.status} ${text.slice(0, 300)}`);
    return {
      ms,
      awaited: res.headers.get('x-edge-awaited'),
      cache: res.headers.get('x-cache'),
      serverTiming: res.headers.get('server-timing'),
    };
  };

  const load = loadClient();
  const cells = [];
  const maxDelay = Math.max(...Object.values(DELAYS));
  for (const level of LEVELS) {
    // Both settings of one traffic level back to back, so the drift of a shared machine hits
    // them alike; the same seed gives both the same sequence of popular and new inputs.
    for (const setting of ['off', 'on']) {
      await setDelays(server.url, setting === 'on' ? DELAYS : OFF);
      // Warm-up, not counted: every popular input once (so the cache can answer them, as it
      // would in steady traffic) and a new one.
      for (let k = 0; k < HOT; k++) await predict(bodyWith(HOT_BASE + k));
      await predict(freshBody());
      await edgeStats(server.url, { reset: true });
      const { results, fresh: next } = await load({
        url: inferUrl(),
        headers,
        rate: level.rate,
        durationS: level.durationS,
        inputs: model.inputs,
        repeat: REPEAT,
        hot: HOT,
        seed: SEED * 1000 + level.rate,
        fresh,
      });
      fresh = next;
      // Work left after the responses (cache and metric writes under waitUntil) belongs to the cell.
      await sleep(500 + 2 * (setting === 'on' ? maxDelay : 0));
      const stats = await edgeStats(server.url, { reset: true });
      const cell = summarizeCell({ ...level, delays: setting, results, stats, windowS: WINDOW_S });
      cells.push(cell);
      const top = cell.awaited[0];
      console.log(
        `  ${level.rate} req/s × ${level.durationS} s, delays ${setting}: p50 ${cell.p50_ms} p90 ${cell.p90_ms} p99 ${cell.p99_ms} ms; ` +
          `${cell.ok}/${cell.requests} ok; most awaited ${top?.calls} (${Math.round((top?.share ?? 0) * 100)}%); D1 statements ${cell.d1_statements}`,
      );
      if (cell.ok < cell.requests) {
        console.warn(`    non-200: ${JSON.stringify(cell.statuses)} ${cell.first_error ?? ''}`);
      }
    }
  }

  console.log(`cold start: ${COLD_REPS} new workerd processes per setting, alternating…`);
  const coldRuns = { off: [], on: [] };
  for (let rep = 0; rep < COLD_REPS; rep++) {
    for (const setting of ['off', 'on']) {
      const t0 = performance.now();
      await server.restart(delayVars(setting === 'on' ? DELAYS : OFF));
      const restartMs = performance.now() - t0;
      // New inputs: the prediction cache cannot answer, so the model is loaded and run.
      const first = await predict(freshBody());
      const second = await predict(freshBody());
      coldRuns[setting].push({
        restartMs,
        firstMs: first.ms,
        secondMs: second.ms,
        awaited: first.awaited,
        serverTiming: first.serverTiming,
      });
    }
  }
  const coldStart = ['off', 'on'].map((s) => summarizeCold(s, coldRuns[s]));

  const report = {
    generated_at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? null,
      node: process.version,
      workerd: workerdVersion(),
    },
    method: {
      server:
        'wrangler deploy --dry-run bundle of scripts/bench/edge/worker.ts (workers/index.ts unchanged, its env bindings and the global caches wrapped with per-kind delays), on workerd through the Miniflare API, local data in a temp dir',
      delays: DELAYS,
      delay_model:
        'a setTimeout of the kind’s delay before each call that leaves the isolate in production, then the real call',
      load: 'open loop from a separate process on loopback: requests sent on a fixed schedule whatever the answers; latency from when each was due',
      levels: LEVELS,
      credential:
        'an API key with the predict scope only; rate limits out of reach (the limiter is called, never refuses)',
      caching: 'default (no Cache-Control header)',
      input: `Inputs: the model's example with its last number varied; ${Math.round(REPEAT * 100)}% of requests re-send one of ${HOT} popular inputs (each sent once in a warm-up before every cell, so the prediction cache can answer them), the rest send an input never sent before (a cache miss: KV read, inference, KV write after the response). Default caching, no Cache-Control header.`,
      repeat: REPEAT,
      hot: HOT,
      model: model.name,
      window_s: WINDOW_S,
      seed: SEED,
      quick,
    },
    cells,
    cold_start: coldStart,
    elapsed_s: null,
  };
  report.targets = targets(report);
  report.elapsed_s = Math.round((performance.now() - started) / 1000);
  const md = renderMarkdown(report);
  writeFileSync(join(outDir, 'edge.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'edge.md'), md);
  console.log(`\n${md}`);
  console.log(`wrote ${join(outDir, 'edge.json')} and ${join(outDir, 'edge.md')} in ${report.elapsed_s} s`);
}

function workerdVersion() {
  for (const dir of ['node_modules/wrangler/node_modules/workerd', 'node_modules/workerd']) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    } catch {
      // not installed there
    }
  }
  return null;
}

try {
  await main();
} catch (err) {
  console.error(`\nbench:edge failed: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await server?.dispose().catch(() => {});
  cleanup();
}
