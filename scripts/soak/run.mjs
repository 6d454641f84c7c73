#!/usr/bin/env node
// `npm run soak`: a bounded soak on loopback. Serves the production bundle on workerd with
// local D1/R2/KV/Queues, then for --duration seconds drives mixed predictions (V2 and
// instances, pinned, by alias and latest), malformed requests, uploads, alias moves, archives,
// batch jobs and signed trigger calls from --workers concurrent clients, checking every answer.
// Afterwards it waits for every job and every job's webhook, and reports requests by status,
// 5xx, rows submitted against rows returned and the isolate's memory over time. Writes
// bench/soak.json and bench/soak.md; exits 1 if anything was wrong.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rng } from '../demo-model.mjs';
import { freePort } from '../bench/inspector.mjs';
import { build, serve } from '../bench/serve.mjs';
import { createClient } from './client.mjs';
import { createInFlight } from './in-flight.mjs';
import { createJobTracker } from './jobs.mjs';
import { memoryTrend, startMemorySampler } from './memory.mjs';
import { affineModel } from './models.mjs';
import { MODEL, badRequest, predictInstances, predictV2, rowPool } from './predictions.mjs';
import { startReceiver } from './receiver.mjs';
import { createRegistryState } from './registry-state.mjs';
import { moveAlias, uploadVersion } from './registry-ops.mjs';
import { renderSoak } from './report.mjs';
import { createTally } from './tally.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    workers: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    'memory-every': { type: 'string', default: '15' },
    out: { type: 'string', default: 'bench' },
    'heap-snapshots': { type: 'string' },
  },
});
/** A whole number of at least 1, or the run stops before it starts, saying which option is wrong. */
function positive(name) {
  const value = Number(opts[name]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a whole number of at least 1, not '${opts[name]}'`);
    process.exit(2);
  }
  return value;
}
const DURATION_S = positive('duration');
const WORKERS = positive('workers');
const MEMORY_EVERY_S = positive('memory-every');
const SEED = positive('seed');
const SETTLE_MS = 180_000;
/** Versions the setup uploads before the load; the load's uploads number on from them. */
const SETUP_VERSIONS = [1, 2];

/** How often each operation is picked, out of the sum. */
const MIX = [
  ['predict.v2', 45, (ctx) => predictV2(ctx)],
  ['predict.instances', 20, (ctx) => predictInstances(ctx)],
  ['bad-input', 12, (ctx) => badRequest(ctx)],
  ['job', 5, (ctx) => ctx.jobs.submit()],
  ['trigger', 4, (ctx) => ctx.jobs.trigger()],
  ['alias', 3, (ctx) => moveAlias(ctx)],
  ['upload', 2, (ctx) => uploadVersion(ctx)],
];
const MIX_TOTAL = MIX.reduce((a, [, w]) => a + w, 0);

function pickOperation(random) {
  let roll = random() * MIX_TOTAL;
  for (const entry of MIX) {
    roll -= entry[1];
    if (roll < 0) return entry;
  }
  return MIX[0];
}

function must(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body;
}

/** Keys with what each client needs, the model's first version and alias, a webhook, a trigger. */
async function setUp(ctx, receiver) {
  const admin = ctx.keys.admin;
  const key = async (name, scopes) =>
    must(await ctx.send('setup', 'POST', '/v1/api-keys', { token: admin, json: { name, scopes } }), 201, name).key;
  ctx.keys.predict = await key('soak predictions', ['predict']);
  ctx.keys.jobs = await key('soak jobs', ['jobs']);
  for (const version of SETUP_VERSIONS) {
    must(
      await ctx.send('setup', 'POST', `/v1/models/${MODEL}/versions`, {
        token: admin,
        body: affineModel(version),
        headers: { 'content-type': 'application/octet-stream' },
      }),
      201,
      `upload version ${version}`,
    );
    ctx.registry.added(version);
  }
  const settle = ctx.registry.aliasMoving(1);
  must(
    await ctx.send('setup', 'PUT', `/v1/models/${MODEL}/aliases/production`, { token: admin, json: { version: 1 } }),
    200,
    'alias',
  );
  settle(true);
  const endpoint = must(
    await ctx.send('setup', 'POST', '/v1/webhooks', {
      token: admin,
      json: { url: receiver.url, events: ['job.succeeded', 'job.partially_failed', 'job.failed', 'job.cancelled'] },
    }),
    201,
    'webhook endpoint',
  );
  receiver.trust(endpoint.secret);
  const trigger = must(
    await ctx.send('setup', 'POST', '/v1/triggers', {
      token: admin,
      json: { name: 'soak', model: MODEL, version: 'production' },
    }),
    201,
    'trigger',
  );
  ctx.trigger = { id: trigger.id, hookUrl: trigger.hook_url, secret: trigger.secret, sent: 0 };
}

async function worker(ctx, deadline) {
  while (Date.now() < deadline) {
    const [, , run] = pickOperation(ctx.random);
    await run(ctx);
  }
}

async function pollJobs(ctx, until) {
  while (!until()) {
    await ctx.jobs.pollAll();
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits for every ended job's webhook; answers how many jobs were announced exactly once. */
async function checkAnnouncements(ctx, receiver, deadline) {
  for (;;) {
    const events = receiver.jobEvents();
    const missing = [...ctx.jobs.ended.keys()].filter((id) => !events.has(id));
    if (missing.length === 0 || Date.now() > deadline) {
      for (const id of missing) ctx.tally.fail('webhook', `job ${id} ended but was never announced`);
      for (const [id, status] of ctx.jobs.ended) {
        const got = events.get(id) ?? [];
        if (got.length > 1) ctx.tally.fail('webhook', `job ${id} announced ${got.length} times`);
        if (got.length >= 1 && got[0].data.status !== status) {
          ctx.tally.fail('webhook', `job ${id} announced as ${got[0].data.status}, ended ${status}`);
        }
      }
      ctx.tally.jobs.announced = [...ctx.jobs.ended.keys()].filter((id) => events.get(id)?.length === 1).length;
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const persistDir = mkdtempSync(join(tmpdir(), 'modelflare-soak-'));
const work = join(opts.out, 'out', 'soak');
mkdirSync(work, { recursive: true });
let server;
let receiver;
let exitCode = 1;
try {
  console.error('building the production bundle…');
  const bundle = build('workers/index.ts', join(work, 'prod'));
  const inspectorPort = await freePort();
  receiver = await startReceiver();
  const adminKey = `mf_admin_${randomBytes(24).toString('hex')}`;
  // The isolate's console (access log, warnings), kept for whoever reads a failed run.
  const workerdLog = createWriteStream(join(work, 'workerd.log'));
  const workerdErrors = [];
  server = await serve({
    bundle,
    persistDir,
    port: 0,
    inspectorPort,
    vars: {
      // Loopback http receivers are allowed in development only (an unset ENVIRONMENT is production).
      ENVIRONMENT: 'development',
      ADMIN_API_KEY: adminKey,
      // Triggers and webhook endpoints store their signing secrets encrypted with it.
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      // The soak checks answers, not refusals: limits out of reach (the limiter still runs).
      RATE_LIMIT_PREDICTION: String(2 ** 40),
      RATE_LIMIT_MANAGEMENT: String(2 ** 40),
      RATE_LIMIT_AUTH: String(2 ** 40),
    },
    stdio: (out, err) => {
      out.pipe(workerdLog);
      err.on('data', (d) => {
        workerdLog.write(d);
        workerdErrors.push(String(d));
      });
    },
  });
  console.error('serving at', server.url);
  const tally = createTally();
  const random = rng(SEED).uniform;
  const registry = createRegistryState();
  const ctx = {
    send: createClient(server.url, tally),
    tally,
    random,
    registry,
    inFlight: createInFlight(registry),
    keys: { admin: adminKey },
    pool: rowPool(random),
  };
  ctx.jobs = createJobTracker(ctx);
  await setUp(ctx, receiver);

  if (opts['heap-snapshots']) mkdirSync(opts['heap-snapshots'], { recursive: true });
  const memory = await startMemorySampler(inspectorPort, MEMORY_EVERY_S * 1000, opts['heap-snapshots']);
  console.error(`soak: ${DURATION_S} s, ${WORKERS} clients, against ${server.url}`);
  const started = Date.now();
  const deadline = started + DURATION_S * 1000;
  // Requests answered before the load (the setup) and after it (polls, result reads) are not the load's.
  const requestsBeforeLoad = tally.requests;
  let clientsDone = false;
  const progress = setInterval(
    () => {
      console.error(
        `  ${Math.round((Date.now() - started) / 1000)} s: ${tally.requests} requests, ${tally.serverErrors} 5xx, ` +
          `${tally.failureCount} wrong, ${ctx.jobs.pending.size} jobs running`,
      );
    },
    Number(process.env.SOAK_PROGRESS_MS ?? 15_000),
  );
  const poller = pollJobs(ctx, () => clientsDone && ctx.jobs.pending.size === 0);
  await Promise.all(Array.from({ length: WORKERS }, () => worker(ctx, deadline)));
  const loadSeconds = (Date.now() - started) / 1000;
  const loadRequests = tally.requests - requestsBeforeLoad;
  clientsDone = true;
  await memory.stopLoad();
  const settleTimer = setTimeout(() => {
    for (const id of ctx.jobs.pending.keys()) tally.fail('job', `job ${id} did not end within ${SETTLE_MS / 1000} s`);
    ctx.jobs.pending.clear();
  }, SETTLE_MS);
  await poller;
  clearTimeout(settleTimer);
  await checkAnnouncements(ctx, receiver, Date.now() + 60_000);
  clearInterval(progress);
  const samples = await memory.finish();

  const result = {
    date: new Date().toISOString(),
    config: {
      durationSeconds: DURATION_S,
      clients: WORKERS,
      seed: SEED,
      loadSeconds: +loadSeconds.toFixed(1),
    },
    requests: tally.requests,
    load: { requests: loadRequests, requestsPerSecond: +(loadRequests / loadSeconds).toFixed(1) },
    byStatus: tally.byStatus,
    byOperation: tally.byOp,
    serverErrors: tally.serverErrors,
    wrongAnswers: tally.failureCount,
    failures: tally.failures,
    rows: { ...tally.rows, lost: tally.rows.submitted - tally.rows.returned },
    jobs: tally.jobs,
    versions: {
      setup: SETUP_VERSIONS.length,
      uploadedDuringLoad: tally.byOp.upload?.statuses?.['201'] ?? 0,
      total: registry.offsets.size,
      aliasTarget: registry.aliasTarget,
    },
    webhooks: receiver.tally,
    memory: { samples, trend: memoryTrend(samples) },
    workerdErrors: workerdErrors
      .join('')
      .split('\n')
      .filter((l) => /error|exception|warn/i.test(l))
      .slice(0, 20),
  };
  // A heap too briefly watched to judge is reported as not judged, neither flat nor growing.
  const clean =
    result.serverErrors === 0 &&
    result.wrongAnswers === 0 &&
    result.rows.lost === 0 &&
    result.memory.trend.flat !== false;
  result.clean = clean;
  writeFileSync(join(opts.out, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
  const markdown = renderSoak(result);
  writeFileSync(join(opts.out, 'soak.md'), markdown);
  console.log(markdown);
  exitCode = clean ? 0 : 1;
} catch (err) {
  console.error(err);
} finally {
  await server?.dispose().catch(() => {});
  await receiver?.close();
  rmSync(persistDir, { recursive: true, force: true });
}
process.exit(exitCode);
