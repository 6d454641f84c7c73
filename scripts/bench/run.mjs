#!/usr/bin/env node
// `npm run bench`: builds the worker as production ships it, serves it on workerd through
// Miniflare's API, uploads the benchmark models, and measures from a second process on
// loopback — floors, the prediction paths, the peer, batch and cold start — in one run,
// interleaved. Writes bench/results.json and bench/results.md and prints the table.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { coldStart, wasmCompileMs } from './cold-start.mjs';
import { percentile } from './load.mjs';
import { renderMarkdown, summarize } from './report.mjs';
import { childPid, cpuMs, rssMiB } from './proc-cpu.mjs';
import { queueBatch, jobRows } from './queue-batch.mjs';
import { check, floorAJob, pathJobs, startBenchServer, switchLog } from './setup.mjs';
import {
  backendCells,
  prepareBackends,
  renderBackends,
  runnerPlan,
  startRunner,
  summarizeBackends,
} from './backends.mjs';

const { values: opts } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '1000' },
    'warmup-ms': { type: 'string', default: '400' },
    'settle-ms': { type: 'string', default: '250' },
    rounds: { type: 'string', default: '3' },
    'max-requests': { type: 'string', default: '100000' },
    'cold-reps': { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    logs: { type: 'string', default: 'drain' },
  },
});
const quick = opts.quick;
const DURATION = quick ? 300 : Number(opts['duration-ms']);
const WARMUP = quick ? 150 : Number(opts['warmup-ms']);
const SETTLE = quick ? 100 : Number(opts['settle-ms']);
const ROUNDS = quick ? 1 : Number(opts.rounds);
const MAX_REQUESTS = Number(opts['max-requests']);
const CONCURRENCY = [1, 32];

/** Sets the bench up (models, API keys); the measured paths send a `predict`-only API key instead. */
const adminKey = `mf_admin_${randomBytes(24).toString('hex')}`;
const JOB_ROWS = quick ? 10_000 : 100_000;

// A quick run is indicative only: it never replaces the results of a full one.
const outDir = opts.out ?? (opts.quick ? join('bench', 'out', 'quick') : 'bench');
const work = join(outDir, 'out');
mkdirSync(join(work, 'models'), { recursive: true });
const persistDir = mkdtempSync(join(tmpdir(), 'modelflare-bench-'));
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

/** A forked helper that answers one message per request, with a deadline. */
function helper(script) {
  const child = fork(new URL(script, import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  return {
    child,
    ask(message, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${script} did not answer in ${timeoutMs} ms`)), timeoutMs);
        child.once('message', (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        child.send(message);
      });
    },
  };
}

/**
 * Waits until workerd is idle (under 10% of a core over 100 ms, for at most 3 s): the miss
 * path leaves KV writes running after its responses, and their CPU must not be charged to the
 * cell that follows.
 */
async function quiesce(pid) {
  const until = performance.now() + 3000;
  for (;;) {
    const before = cpuMs(pid);
    await new Promise((r) => setTimeout(r, 100));
    if (cpuMs(pid) - before <= 10 || performance.now() > until) return;
  }
}

/** workerd's stdout carries the access log: count it and drop it, as a log pipeline would ship it away. */
const logStats = { bytes: 0, lines: 0 };
function drainStdio(stdout, stderr) {
  stdout.on('data', (chunk) => {
    logStats.bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) logStats.lines += 1;
    if (opts.logs === 'inherit') process.stdout.write(chunk);
  });
  stderr.on('data', (chunk) => process.stderr.write(chunk));
}

/**
 * What a split adds to a request, timed by the isolate itself around a million repetitions
 * (`/__bench/split-cost`): assigning the route at random and by routing key, and counting the
 * request against its route. Median of 5, after a warm-up.
 */
async function rolloutCost(m) {
  const n = quick ? 200_000 : 1_000_000;
  const runs = [];
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${server.url}/__bench/split-cost?model=${m.rollout}&alias=split&n=${n}`);
    const out = await res.json();
    check(res.ok && out.ns_per_request, `split cost: ${res.status} ${JSON.stringify(out)}`);
    const share = out.served['0'] / n;
    check(Math.abs(share - 0.5) < 0.01, `split cost: route 0 drew ${share} of a 50/50 split`);
    if (i > 0) runs.push(out.ns_per_request);
  }
  const median = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  const [random, keyed, counted] = [median('random'), median('keyed'), median('counted')];
  return {
    model: m.name,
    repetitions: n,
    ns_per_request: { random, keyed, counted },
    // What a split request does beyond a plain one: one assignment and one more count.
    split_us: (random + counted) / 1000,
    keyed_us: (keyed + counted) / 1000,
    runs,
  };
}

/**
 * The JSON floor of a job: its input rows and the result lines it wrote are held in the isolate,
 * which then does the JSON work alone (split, parse, write result lines of the same size) and
 * times it itself. Five timings after a warm-up (each of whole passes over the job for at least
 * 100 ms); the median time per pass counts.
 */
async function jsonFloor(rows, resultsText, chunkRows, count) {
  const post = async (path, body) => {
    const res = await fetch(`${server.url}/__bench/${path}`, { method: 'POST', body });
    const text = await res.text();
    check(res.ok, `json floor ${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  const held = await post(`jsonl-input?chunk_rows=${chunkRows}`, rows);
  check(held.rows === count, `json floor: ${held.rows} rows held, ${count} sent`);
  check((await post('jsonl-results', resultsText)).rows === count, 'json floor: the results do not match the rows');
  await post('jsonl-run?runs=1'); // warm-up
  const run = await post('jsonl-run?runs=5');
  // The result lines written are the job's own, character for character.
  check(
    run.result_chars === resultsText.length,
    `json floor wrote ${run.result_chars} characters, the job ${resultsText.length}`,
  );
  const ms = [...run.ms].sort((a, b) => a - b)[2];
  check(ms > 0, 'json floor: the isolate’s clock did not advance while it worked');
  return { rows: count, ms_runs: run.ms, ms, rows_per_s: count / (ms / 1000), result_bytes: resultsText.length };
}

/**
 * A binary answer is what tritonclient reads (octet-stream, the JSON header's length, each
 * output's bytes after it) and holds the same numbers as the JSON answer of the same request.
 */
async function checkBinaryAnswer(cell, res, bytes) {
  const what = `${cell.scenario} ${cell.model.name}`;
  check(res.headers.get('content-type') === 'application/octet-stream', `${what}: not application/octet-stream`);
  const length = Number(res.headers.get('inference-header-content-length'));
  check(length > 0 && length < bytes.length, `${what}: Inference-Header-Content-Length ${length} of ${bytes.length}`);
  const header = JSON.parse(bytes.subarray(0, length).toString('utf8'));
  const json = await fetch(cell.job.url, {
    method: 'POST',
    headers: { authorization: cell.job.headers.authorization, 'content-type': 'application/json' },
    body: cell.model.body,
  }).then((r) => r.json());
  let at = length;
  for (const [i, output] of header.outputs.entries()) {
    const size = output.parameters.binary_data_size;
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + size));
    at += size;
    const expected = json.outputs[i].data.map(Math.fround);
    check(
      values.length === expected.length && values.every((v, k) => v === expected[k]),
      `${what}: binary output ${output.name} differs from the JSON answer`,
    );
  }
  check(at === bytes.length, `${what}: ${bytes.length - at} bytes after the outputs`);
}

async function main() {
  const started = performance.now();
  console.log('building the production bundle and the bench bundle (wrangler deploy --dry-run)…');
  const runner = await runnerPlan(randomBytes(24).toString('hex'));
  const setup = await startBenchServer({ work, persistDir, token: adminKey, stdio: drainStdio, vars: runner.vars });
  server = setup.server;
  const { api, models, bundle, predictKey, jobsKey } = setup;
  console.log(`workerd (Miniflare API, no dev proxy) on ${server.url}`);
  const runnerChild = await startRunner(runner, server.url);
  children.push(runnerChild);
  const cnnModel = models.find((m) => m.name === 'cnn');
  console.log(`the native runner on ${runner.url}; uploading the CNN as a runner version and a generated large model…`);
  const backends = await prepareBackends({ api, server, token: adminKey, cnn: cnnModel, work });

  const peerHelper = helper('./peer.mjs');
  const { port: peerPort } = await peerHelper.ask(
    { models: [...models, backends.large].map((m) => ({ name: m.name, path: m.path })) },
    120_000,
  );
  const peer = `http://127.0.0.1:${peerPort}`;
  const load = helper('./load.mjs');
  const workerdPid = childPid('workerd');
  check(workerdPid !== null, 'cannot find the workerd process');

  // One cell per (scenario, model, concurrency); every round visits every cell.
  const auth = { authorization: `Bearer ${predictKey}`, 'content-type': 'application/json' };
  const cells = [];
  for (const c of CONCURRENCY) {
    cells.push({ scenario: 'floorA', model: null, c, job: floorAJob(server.url) });
    cells.push({ scenario: 'floorAEntry', model: null, c, job: floorAJob(server.entryUrl) });
    for (const m of models) {
      const jobs = pathJobs({ origin: server.url, peer, token: predictKey, model: m });
      for (const [scenario, { job, expectCache, log, binaryAnswer }] of Object.entries(jobs)) {
        cells.push({
          scenario,
          model: m,
          c,
          job: job.vary ? { ...job, vary: [...job.vary, 0] } : job,
          expectCache,
          log,
          binaryAnswer,
        });
      }
    }
  }

  cells.push(
    ...backendCells({
      origin: server.url,
      peer,
      token: predictKey,
      cnn: cnnModel,
      large: backends.large,
      concurrency: CONCURRENCY,
    }),
  );

  // Each path answers correctly before it is timed; the hit path's entry is written here.
  for (const cell of cells.filter((x) => x.c === 1)) {
    const { url, method = 'GET', headers, vary, bodyBase64 } = cell.job;
    for (let i = 0; i < 2; i++) {
      // Probe values (below 1) never meet the load's distinct values (1 and up).
      const body = vary
        ? `${vary[0]}${0.5 + i / 1048576}${vary[1]}`
        : bodyBase64 !== undefined
          ? Buffer.from(bodyBase64, 'base64')
          : cell.job.body;
      const res = await fetch(url, { method, headers, body });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      check(res.status === 200, `${cell.scenario} ${cell.model?.name}: ${res.status} ${text.slice(0, 300)}`);
      if (cell.binaryAnswer) await checkBinaryAnswer(cell, res, bytes);
      if (cell.expectCache === 'HIT' && i === 0) await new Promise((r) => setTimeout(r, 200));
      if (i === 1 && cell.expectCache) {
        const got = res.headers.get('x-cache');
        check(
          got === cell.expectCache,
          `${cell.scenario} ${cell.model.name}: X-Cache ${got}, expected ${cell.expectCache}`,
        );
      }
    }
  }

  const results = new Map(cells.map((cell) => [cell, []]));
  const failures = [];
  const vary = new Map();
  async function runCell(cell, durationMs, keep) {
    const job = { ...cell.job, connections: cell.c, settleMs: SETTLE, durationMs, maxRequests: MAX_REQUESTS };
    if (job.vary) job.vary = [job.vary[0], job.vary[1], vary.get(cell.model.name) ?? 0];
    await quiesce(workerdPid);
    if (cell.log) await switchLog(server.url, cell.log);
    const pid =
      cell.scenario === 'peer' ? peerHelper.child.pid : cell.scenario === 'runner' ? runnerChild.pid : workerdPid;
    const cpu0 = cpuMs(pid);
    const t0 = performance.now();
    const reply = await load.ask(job, SETTLE + durationMs + 30_000);
    const cpu = cpuMs(pid) - cpu0;
    if (cell.log) await switchLog(server.url, 'on');
    if (process.env.BENCH_VERBOSE) {
      const r = reply.result;
      console.log(
        `${cell.scenario} ${cell.model?.name} c=${cell.c}: ${(performance.now() - t0).toFixed(0)} ms wall, ${r?.requests} req, p50 ${r?.p50?.toFixed(3)} p99 ${r?.p99?.toFixed(2)} max ${r?.max?.toFixed(1)}`,
      );
    }
    if (!reply.ok) throw new Error(`load ${cell.scenario} ${cell.model?.name}: ${reply.error}`);
    if (job.vary) vary.set(cell.model.name, reply.result.varyNext);
    // A failed request is not timed; it is counted and reported, and the run goes on.
    const bad = Object.entries(reply.result.statuses).filter(([s]) => s !== '200');
    if (bad.length > 0 || reply.result.errors > 0) {
      const what = `${cell.scenario} ${cell.model?.name ?? ''} c=${cell.c}: statuses ${JSON.stringify(bad)}, ${reply.result.errors} connection errors (${reply.result.firstError ?? 'none'})`;
      console.warn(`  failures in ${what}`);
      failures.push(what);
    }
    if (keep) results.get(cell).push({ ...reply.result, cpuMs: cpu });
  }

  console.log(`warm-up, then ${ROUNDS} interleaved rounds of ${cells.length} cells × ${DURATION} ms…`);
  for (const cell of cells) await runCell(cell, WARMUP, false);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no cell always follows the same neighbour.
    const order = cells.map((_, i) => cells[(i + round * 7) % cells.length]);
    for (const cell of order) await runCell(cell, DURATION, true);
    console.log(
      `  round ${round + 1}/${ROUNDS} done (${((performance.now() - started) / 1000).toFixed(0)} s; workerd ${rssMiB(workerdPid)} MiB resident)`,
    );
  }

  const rollouts = [];
  for (const m of models.filter((x) => x.rollout)) {
    console.log(`rollouts: what a split adds to a ${m.name} request, timed inside the isolate…`);
    rollouts.push(await rolloutCost(m));
  }

  console.log('batch: raw batched session.run, ours and the peer…');
  const batch = [];
  for (const m of models.filter((x) => x.batchable)) {
    // Long enough that each side's own clock (workerd's ticks in whole milliseconds) reads it to 1% or better.
    const plan = m.name === 'cnn' ? { rows: 32, runs: quick ? 3 : 10 } : { rows: 1000, runs: quick ? 500 : 2000 };
    /** One request of `runs` batched calls; answers the seconds the server timed around its calls alone. */
    const timed = async (url, body) => {
      const start = performance.now();
      const res = await fetch(url, { method: 'POST', headers: auth, body });
      const text = await res.text();
      const wall = (performance.now() - start) / 1000;
      check(res.status === 200, `batch ${m.name}: ${res.status} ${text.slice(0, 300)}`);
      const { seconds } = JSON.parse(text);
      check(seconds > 0 && seconds <= wall, `batch ${m.name}: the server timed ${seconds} s of a ${wall} s request`);
      return seconds;
    };
    const q = `rows=${plan.rows}&runs=${plan.runs}`;
    const perCall = { rows: 1, runs: quick ? 4000 : 20000 };
    const pc = `rows=1&runs=${perCall.runs}`;
    await timed(`${server.url}/__bench/batch?key=${m.name}&${q}`); // warm-up
    const ours = await timed(`${server.url}/__bench/batch?key=${m.name}&${q}`);
    await timed(`${peer}/v2/models/${m.name}/batch?${q}`, m.body);
    const theirs = await timed(`${peer}/v2/models/${m.name}/batch?${q}`, m.body);
    const oursCall = await timed(`${server.url}/__bench/batch?key=${m.name}&${pc}`);
    const theirsCall = await timed(`${peer}/v2/models/${m.name}/batch?${pc}`, m.body);
    batch.push({
      model: m.name,
      rows_per_run: plan.rows,
      runs: plan.runs,
      clock: 'each server’s own performance.now() around its session.run loop (tensors tiled before)',
      ours_rows_per_s: (plan.rows * plan.runs) / ours,
      peer_rows_per_s: (plan.rows * plan.runs) / theirs,
      ours_us_per_call_batch1: (oursCall / perCall.runs) * 1e6,
      peer_us_per_call_batch1: (theirsCall / perCall.runs) * 1e6,
      queue: null,
    });
  }

  // The product's path: upload, job, queue, consumers, result files; chunks as large as the raw
  // figure's calls so the two differ by the path alone. The iris job is the 100,000 rows;
  // the CNN's rows are 3,072 numbers each, so it runs fewer.
  for (const b of batch) {
    const m = models.find((x) => x.name === b.model);
    const count = m.name === 'iris' ? JOB_ROWS : quick ? 200 : 2000;
    console.log(`batch: a ${count.toLocaleString('en')}-row ${m.name} job through the queue…`);
    const rows = jobRows(m, count);
    const { resultsText, ...job } = await queueBatch({
      origin: server.url,
      key: jobsKey,
      model: m,
      rows,
      count,
      chunkRows: b.rows_per_run,
    });
    b.queue = job;
    b.queue.json_floor = await jsonFloor(rows, resultsText, b.rows_per_run, count);
    b.queue.json_floor_rows_per_s = b.queue.json_floor.rows_per_s;
  }

  console.log('cold start (a new workerd per repetition)…');
  const cnn = models.find((m) => m.name === 'cnn');
  const cold = await coldStart({ server, api, target: cnn, reps: quick ? 1 : Number(opts['cold-reps']) });
  cold.wasm_compile_in_node = await wasmCompileMs(bundle.dir);

  const cellResults = cells.map((cell) => {
    const rounds = results.get(cell);
    const all = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const requests = rounds.reduce((s, r) => s + r.requests, 0);
    const seconds = rounds.reduce((s, r) => s + r.seconds, 0);
    const answered = rounds.reduce((s, r) => s + r.answered, 0);
    const cpu = rounds.reduce((s, r) => s + r.cpuMs, 0);
    return {
      scenario: cell.scenario,
      model: cell.model?.name ?? null,
      concurrency: cell.c,
      requests,
      rps: requests / seconds,
      rps_by_round: rounds.map((r) => r.rps),
      p50_ms: percentile(all, 50),
      p90_ms: percentile(all, 90),
      p99_ms: percentile(all, 99),
      p999_ms: percentile(all, 99.9),
      max_ms: all[all.length - 1] ?? null,
      over_50ms: all.filter((v) => v > 50).length,
      // Of the serving process (workerd, or the peer's Node), settle period included.
      cpu_us_per_request: (cpu * 1000) / answered,
    };
  });

  const report = {
    generated_at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? null,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      workerd: workerdVersion(),
    },
    method: {
      server:
        'wrangler deploy --dry-run bundle of scripts/bench/worker.ts (the production app plus /__bench routes), on workerd through the Miniflare API of wrangler’s own miniflare, bindings from wrangler.toml, local persistence in a temp dir',
      load: 'autocannon in a separate process on loopback; every response time kept (exact percentiles)',
      rounds: ROUNDS,
      duration_ms: DURATION,
      warmup_ms: WARMUP,
      settle_ms: SETTLE,
      concurrency: CONCURRENCY,
      credential:
        'an API key with the predict scope only (Authorization: Bearer), rate limits set out of reach so the limiter is called but never refuses',
      full_path: 'V2 infer with Cache-Control: no-store (auth, registry, validation, session.run, encoding; no KV)',
      miss_path: 'V2 infer with a distinct input per request: KV read misses, KV write after the response',
      log_lines: logStats.lines,
      quick,
    },
    models: models.map((m) => ({ name: m.name, about: m.about, size_bytes: m.bytes.length })),
    cells: cellResults,
    backends: summarizeBackends(cellResults, {
      coldMs: backends.coldMs,
      threads: cpus().length,
      largeBytes: backends.large.bytes.length,
    }),
    failures,
    batch,
    rollouts,
    cold_start: cold,
    elapsed_s: (performance.now() - started) / 1000,
  };
  report.summary = summarize(report);
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = `${renderMarkdown(report)}${renderBackends(report.backends)}\n`;
  writeFileSync(join(outDir, 'results.md'), md);
  if (!quick && outDir === 'bench') updateReadme(md);
  console.log(`\n${md}`);
  console.log(
    `wrote ${join(outDir, 'results.json')} and ${join(outDir, 'results.md')} in ${report.elapsed_s.toFixed(0)} s`,
  );
}

/** The README's Benchmark section shows the latest full run, between its two markers. */
function updateReadme(md) {
  const readme = readFileSync('README.md', 'utf8');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) return;
  writeFileSync('README.md', `${readme.slice(0, from + start.length)}\n${md}${readme.slice(to)}`);
  console.log('updated the Benchmark section of README.md');
}

function workerdVersion() {
  try {
    const dir = join('node_modules', 'wrangler', 'node_modules', 'workerd');
    const pkg = readdirSync(dir).includes('package.json')
      ? join(dir, 'package.json')
      : 'node_modules/workerd/package.json';
    return JSON.parse(readFileSync(pkg, 'utf8')).version;
  } catch {
    return null;
  }
}

try {
  await main();
} catch (err) {
  console.error(`\nbench failed: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await server?.dispose().catch(() => {});
  cleanup();
}
