#!/usr/bin/env node
// `npm start`: the whole platform on this machine, offline. Creates .dev.vars with a random
// admin key, JWT secret, secrets encryption key and runner token on first run (and adds any
// missing later), applies D1 migrations locally, runs wrangler dev on 127.0.0.1:8787 with local
// D1/R2/KV/Queues and the native runner beside it as a Node process (RUNNER_PORT, by default
// the next port; the worker reaches it by RUNNER_URL), registers the demo model, prints how to
// call it, and fires the cron trigger (which wrangler dev never does by itself): every minute,
// or as MODELFLARE_CRON says.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DEMO, buildDemoModel } from './demo-model.mjs';
import { apiClient } from './lib/api-client.mjs';
import { wranglerCrons } from './lib/cron.mjs';
import { ensureDevVars } from './lib/dev-vars.mjs';
import { localSchedule, runLocalCron } from './lib/local-cron.mjs';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 8787);
const BASE = `http://${HOST}:${PORT}`;
const RUNNER_PORT = Number(process.env.RUNNER_PORT ?? PORT + 1);
const RUNNER_URL = `http://${HOST}:${RUNNER_PORT}`;
const VARS = '.dev.vars';
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };

function run(cmd, args) {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (result.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
}

async function waitUntilReady(child, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${BASE}/v2/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the worker did not become ready on ${BASE} within ${timeoutMs / 1000} s`);
}

/** Registers the demo classifier and points `production` at it, unless it is there already. */
async function ensureDemoModel(key) {
  const api = apiClient(BASE, key);
  const { name, ...fields } = DEMO;
  let model = await api('GET', `/v1/models/${name}`);
  if (model.status === 404) model = await api('POST', '/v1/models', { name, ...fields });
  if (model.status >= 300) throw new Error(`cannot create the demo model: ${JSON.stringify(model.body)}`);
  if (model.body.latest_version === null) {
    const up = await api('POST', `/v1/models/${name}/versions`, buildDemoModel(), {
      'content-type': 'application/octet-stream',
    });
    if (up.status !== 201 && up.status !== 409)
      throw new Error(`cannot upload the demo model: ${JSON.stringify(up.body)}`);
  }
  const current = await api('GET', `/v1/models/${name}`);
  if (!current.body.aliases.production && current.body.latest_version) {
    await api('PUT', `/v1/models/${name}/aliases/production`, { version: current.body.latest_version });
  }
}

function banner(key, schedule) {
  const auth = `-H "Authorization: Bearer ${key}"`;
  console.log(`
────────────────────────────────────────────────────────────────────────
 modelflare is running on ${BASE}

 admin key   ${key}
             (in .dev.vars; send it as "Authorization: Bearer <key>")

 try it:
   curl -s ${auth} ${BASE}/v1/models/iris

   curl -s ${auth} -H "Content-Type: application/json" ${BASE}/v1/models/iris/predict \\
     -d '{"instances": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}'

   curl -s ${auth} -H "Content-Type: application/json" ${BASE}/v2/models/iris/infer \\
     -d '{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [6.7, 3.0, 5.2, 2.3]}]}'

 or with the CLI (another terminal, this folder):
   export MODELFLARE_URL=${BASE} MODELFLARE_TOKEN=$(grep ADMIN_API_KEY .dev.vars | cut -d= -f2)
   npx modelflare predict iris --data '[[5.1, 3.5, 1.4, 0.2]]'

 runner      ${RUNNER_URL} (onnxruntime-node: models over MAX_MODEL_BYTES, or ?backend=runner)
 dashboard   ${BASE}/dashboard   (sign in with the admin key)
 API docs    ${BASE}/docs

 cron        ${schedule.describe}
             drift reports, alerts, retention, repairs: the chores production runs on its
             schedule. MODELFLARE_CRON=wrangler keeps wrangler.toml's; MODELFLARE_CRON=off runs none.
────────────────────────────────────────────────────────────────────────
`);
}

/** Says how the first run went, then speaks only when a run fails. */
function cronReporter() {
  let first = true;
  return ({ cron, at, ok, status, error }) => {
    const when = new Date(at).toISOString().slice(11, 16);
    if (!ok)
      console.error(`cron "${cron}" at ${when} UTC failed: ${error ?? `status ${status}`} (the worker's log says why)`);
    else if (first) console.log(`cron "${cron}" ran at ${when} UTC; later runs are quiet unless one fails`);
    first = false;
  };
}

let schedule;
try {
  schedule = localSchedule(process.env.MODELFLARE_CRON, wranglerCrons(readFileSync('wrangler.toml', 'utf8')));
} catch (err) {
  console.error(`npm start: ${err.message}`);
  process.exit(2);
}
const { vars, added } = ensureDevVars(VARS);
if (added.length > 0) console.log(`created ${added.join(', ')} in ${VARS}`);
run('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local']);
const child = spawn(
  'npx',
  // Development by name: an unset ENVIRONMENT means production (https-only public webhook URLs, HSTS).
  [
    'wrangler',
    'dev',
    '--ip',
    HOST,
    '--port',
    String(PORT),
    '--local',
    '--show-interactive-dev-session=false',
    '--var',
    'ENVIRONMENT:development',
    '--var',
    `RUNNER_URL:${RUNNER_URL}`,
  ],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  },
);
// The native runner: the same server the container image runs, fetching model files from the worker.
const runner = spawn(process.execPath, ['runner/src/server.mjs'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    HOST,
    PORT: String(RUNNER_PORT),
    RUNNER_TOKEN: vars.RUNNER_TOKEN,
    MODEL_SOURCE_URL: BASE,
  },
});
const cron = new AbortController();
const stop = (signal) => {
  cron.abort();
  if (child.exitCode === null) child.kill(signal);
  if (runner.exitCode === null) runner.kill(signal);
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
child.on('exit', (code) => {
  stop('SIGTERM');
  process.exit(code ?? 0);
});
runner.on('exit', (code) => {
  if (code)
    console.error(`the runner exited with code ${code}; versions it serves answer 503 until npm start runs again`);
});

try {
  await waitUntilReady(child);
  await ensureDemoModel(vars.ADMIN_API_KEY);
  banner(vars.ADMIN_API_KEY, schedule);
  runLocalCron({ base: BASE, schedule, signal: cron.signal, report: cronReporter() }).catch((err) =>
    console.error(`npm start: the cron runner stopped: ${err.message}`),
  );
} catch (err) {
  console.error(`\nnpm start: ${err.message}`);
  stop('SIGTERM');
  process.exitCode = 1;
}
