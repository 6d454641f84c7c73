#!/usr/bin/env node
// `npm run traffic`: generated traffic for a running modelflare (npm start), so that the
// dashboard, drift and alerts have something to show. Sets up the demo model once (a second
// version, drift baselines, logging, alert rules), then sends predictions at a steady rate in
// cycles: calm, an incident (a burst of malformed requests, and from then on a shift in the
// measurements), calm again. Logged predictions get their true label as feedback; a small batch
// job goes in every couple of minutes. Every request is an ordinary API call.
//
//   npm run traffic -- [--minutes 10] [--rate 4] [--cycle 10] [--model iris]
//
// The server is MODELFLARE_URL (default http://127.0.0.1:$PORT, PORT defaulting to 8787) and
// the credential MODELFLARE_TOKEN (default: ADMIN_API_KEY from .dev.vars).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildDemoModel, DEMO, rng } from './demo-model.mjs';
import { apiClient } from './lib/api-client.mjs';
import { localTarget } from './lib/local-target.mjs';

const SPECIES = [
  { mean: [5.01, 3.43, 1.46, 0.25], sd: [0.35, 0.38, 0.17, 0.11] },
  { mean: [5.94, 2.77, 4.26, 1.33], sd: [0.52, 0.31, 0.47, 0.2] },
  { mean: [6.59, 2.97, 5.55, 2.03], sd: [0.64, 0.32, 0.55, 0.27] },
];
/** The shift the incident brings and leaves behind: petals measured 0.8 cm longer. */
const SHIFT = [0, 0, 0.8, 0];

/** The alert rules the demo watches with, created once by name. */
export const DEMO_RULES = [
  { name: 'error rate over 10%', metric: 'error_rate', threshold: 0.1, window: '3m', min_samples: 20 },
  { name: 'p99 latency over 250 ms', metric: 'latency_p99_ms', threshold: 250, window: '5m', min_samples: 20 },
  // PSI over few rows is noisy (a version's first hundred rows can pass 0.25 by chance): 500 at least.
  { name: 'petal drift', metric: 'drift_psi', threshold: 0.25, window: '1h', min_samples: 500 },
  { name: 'accuracy under 80%', metric: 'accuracy', threshold: 0.8, window: '1h', min_samples: 20 },
];

/** Which part of its cycle the traffic is in at `t` (0 to 1): calm, incident, calm again. */
export const phaseAt = (t) => (t < 0.3 ? 'calm' : t < 0.5 ? 'incident' : 'after');

/** One iris record, its true label, and whether it is measured with the shift. */
export function makeRecord(r, shifted) {
  const label = Math.floor(r.uniform() * 3);
  const s = SPECIES[label];
  const values = s.mean.map((m, j) => Math.round((m + s.sd[j] * r.normal() + (shifted ? SHIFT[j] : 0)) * 10) / 10);
  return { record: Object.fromEntries(DEMO.feature_names.map((f, j) => [f, Math.max(0.1, values[j])])), label };
}

const fail = (what, res) => {
  throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
};

/**
 * Makes the model ready for a demo, changing only what is missing: the demo model itself, a
 * second version (a weaker candidate), logging of a share of predictions, a drift window of an
 * hour, a baseline per version from calm traffic, and DEMO_RULES.
 */
/** @param {(line: string) => void} [log] */
export async function setUp(api, name, log = () => {}) {
  let model = await api('GET', `/v1/models/${name}`);
  if (model.status === 404) {
    const { name: _demo, ...fields } = DEMO;
    model = await api('POST', '/v1/models', { name, ...fields });
  }
  if (model.status >= 300) fail(`model ${name}`, model);
  for (const [v, options] of [
    [1, {}],
    [2, { hidden: 8, epochs: 300 }],
  ]) {
    if ((await api('GET', `/v1/models/${name}/versions/${v}`)).status === 404) {
      const up = await api('POST', `/v1/models/${name}/versions`, buildDemoModel(options), {
        'content-type': 'application/octet-stream',
      });
      if (up.status !== 201) fail(`upload of version ${v}`, up);
      log(`uploaded ${name} version ${up.body.version}`);
    }
  }
  const current = await api('GET', `/v1/models/${name}`);
  if (!current.body.aliases.production) await api('PUT', `/v1/models/${name}/aliases/production`, { version: 1 });
  const patched = await api('PATCH', `/v1/models/${name}`, {
    monitoring: { log_sample_rate: 0.25, drift: { window_hours: 1 } },
  });
  if (patched.status !== 200) fail('monitoring settings', patched);
  const r = rng(99);
  for (const v of [1, 2]) {
    if ((await api('GET', `/v1/models/${name}/versions/${v}/baseline`)).status === 404) {
      const rows = Array.from({ length: 600 }, () => makeRecord(r, false).record);
      const set = await api('PUT', `/v1/models/${name}/versions/${v}/baseline`, { rows });
      if (set.status !== 200) fail(`baseline of version ${v}`, set);
      log(`set a drift baseline for version ${v} (600 calm rows)`);
    }
  }
  const rules = await api('GET', `/v1/models/${name}/alerts`);
  if (rules.status !== 200) fail('alert rules', rules);
  for (const rule of DEMO_RULES) {
    if (rules.body.alerts.some((a) => a.name === rule.name)) continue;
    const made = await api('POST', `/v1/models/${name}/alerts`, rule);
    if (made.status !== 201) fail(`alert rule "${rule.name}"`, made);
    log(`created the alert rule "${rule.name}"`);
  }
}

/**
 * Sends traffic until `minutes` have passed or `signal` aborts; answers what it sent. Each
 * second `rate` predictions go out, a fifth of them to version 2; during the incident a third
 * are malformed. Predictions that are logged get their true label back as feedback.
 *
 * @param {{
 *   api: (method: string, path: string, body?: unknown, headers?: object) => Promise<{ status: number, headers: Headers, body: any }>,
 *   name: string,
 *   minutes?: number,
 *   rate?: number,
 *   cycleMinutes?: number,
 *   batchEverySeconds?: number,
 *   signal?: AbortSignal,
 *   log?: (line: string) => void,
 *   now?: () => number,
 * }} options
 */
export async function runTraffic({
  api,
  name,
  minutes = 10,
  rate = 4,
  cycleMinutes = 10,
  batchEverySeconds = 120,
  signal,
  log = () => {},
  now = () => Date.now(),
}) {
  const r = rng(Date.now() & 0xffffffff);
  const started = now();
  const end = started + minutes * 60_000;
  const sent = { requests: 0, errors: 0, feedback: 0, jobs: 0 };
  let shifted = false;
  let lastBatch = -Infinity;
  let lastReport = started;
  const labels = DEMO.class_labels;
  const cached = makeRecord(r, false).record;

  async function predictOne(phase) {
    const bad = phase === 'incident' && r.uniform() < 0.35;
    const version = r.uniform() < 0.2 ? 2 : 1;
    const rows = Array.from({ length: 1 + Math.floor(r.uniform() * 3) }, () =>
      makeRecord(r, shifted && r.uniform() < 0.7),
    );
    const instances = rows.map((row) => row.record);
    // A malformed request: a measurement missing. Some calm requests repeat (cache hits).
    if (bad) delete instances[0].petal_width;
    else if (r.uniform() < 0.1) instances.splice(0, instances.length, cached);
    const res = await api('POST', `/v1/models/${name}/versions/${version}/predict`, { instances });
    sent.requests += 1;
    if (res.status >= 400) {
      sent.errors += 1;
      return;
    }
    const id = res.headers.get('x-prediction-id');
    if (!id || instances[0] === cached) return;
    const feedback = await api('POST', `/v1/predictions/${id}/feedback`, {
      actual: rows.map((row) => labels[row.label]),
    });
    if (feedback.status === 201) sent.feedback += 1;
  }

  async function submitBatch() {
    const rows = Array.from({ length: 200 }, (_, i) => {
      const { record } = makeRecord(r, shifted);
      // A few rows the model cannot score: the job ends partially failed, with its row errors.
      if (i % 67 === 5) delete record.sepal_width;
      return record;
    });
    const job = await api('POST', '/v1/jobs', { model: name, version: 'production', input: { rows }, chunk_size: 50 });
    if (job.status === 202) sent.jobs += 1;
    else log(`batch job refused: ${job.status} ${JSON.stringify(job.body)}`);
  }

  while (now() < end && !signal?.aborted) {
    const second = now();
    const t = ((second - started) / 60_000 / cycleMinutes) % 1;
    const phase = phaseAt(t);
    if (phase === 'incident') shifted = true;
    if (second - lastBatch >= batchEverySeconds * 1000) {
      lastBatch = second;
      await submitBatch();
    }
    await Promise.all(
      Array.from({ length: rate }, () => predictOne(phase).catch((err) => log(`request failed: ${err.message}`))),
    );
    if (second - lastReport >= 30_000) {
      lastReport = second;
      const at = Math.round((second - started) / 1000);
      log(
        `+${Math.floor(at / 60)}:${String(at % 60).padStart(2, '0')} ${phase}${shifted ? ' (shifted)' : ''}: ` +
          `${sent.requests} requests, ${sent.errors} errors, ${sent.feedback} with feedback, ${sent.jobs} jobs`,
      );
    }
    const wait = 1000 - (now() - second);
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
  }
  return sent;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      rate: { type: 'string', default: '4' },
      cycle: { type: 'string', default: '10' },
      model: { type: 'string', default: DEMO.name },
    },
  });
  const number = (key, min, max) => {
    const n = Number(values[key]);
    if (!(n >= min && n <= max)) {
      console.error(`--${key} is a number from ${min} to ${max}; not "${values[key]}"`);
      process.exit(2);
    }
    return n;
  };
  const minutes = number('minutes', 0.1, 24 * 60);
  const rate = number('rate', 1, 100);
  const cycleMinutes = number('cycle', 1, 24 * 60);
  try {
    const { base, token } = localTarget();
    const api = apiClient(base, token);
    const log = (line) => console.log(line);
    await setUp(api, values.model, log);
    log(
      `sending ${rate} predictions a second to ${base} for ${minutes} min; each ${cycleMinutes}-min cycle: ` +
        `calm, an incident (${Math.round(cycleMinutes * 0.3 * 60)} s in, for ${Math.round(cycleMinutes * 0.2 * 60)} s), calm`,
    );
    const abort = new AbortController();
    process.on('SIGINT', () => abort.abort());
    const sent = await runTraffic({ api, name: values.model, minutes, rate, cycleMinutes, signal: abort.signal, log });
    log(`done: ${sent.requests} requests, ${sent.errors} errors, ${sent.feedback} with feedback, ${sent.jobs} jobs`);
    log(`dashboard: ${base}/dashboard#/models/${values.model}/overview?window=1h`);
  } catch (err) {
    console.error(
      `traffic: ${err.cause?.code === 'ECONNREFUSED' ? 'nothing answers there: is npm start running?' : err.message}`,
    );
    process.exitCode = 1;
  }
}
