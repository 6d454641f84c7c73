// What the latency model starts from: the production bundle checked free of the model's
// wrapper, the edge bundle (production worker + binding delays) served on workerd through
// Miniflare's API, one small model uploaded and a predict-only API key, as scripts/bench does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiClient } from '../../lib/api-client.mjs';
import { benchModels } from '../models.mjs';
import { build, serve } from '../serve.mjs';
import { check } from '../setup.mjs';

/** Out of reach, as in the bench: the limiter is called on every request it must see, never refuses. */
const UNLIMITED = String(2 ** 40);

/** What only the edge bundle may contain. */
const EDGE_MARKERS = ['/__edge/', 'x-edge-awaited', 'EDGE_DELAYS_MS'];

/** Binding kinds wrangler.toml declares, as bindings.ts names them: each must come back wrapped. */
export const EXPECTED_BINDINGS = {
  DB: 'D1',
  BUCKET: 'R2',
  CACHE: 'KV',
  BATCH_QUEUE: 'QUEUE',
  WEBHOOK_QUEUE: 'QUEUE',
  RATE_LIMITER: 'DO',
};

/** The variable the edge worker reads its delays from when it starts. */
export const delayVars = (delays) => ({ EDGE_DELAYS_MS: JSON.stringify(delays) });

/**
 * Builds both bundles into `work`, serves the edge one with `delays` and local data in
 * `persistDir`, uploads `modelName` (from scripts/bench/models.mjs) with the admin key `token`,
 * and answers the server, the model, and a key with the `predict` scope only.
 */
export async function startEdgeServer({ work, persistDir, token, delays, modelName, stdio }) {
  const prod = build('workers/index.ts', join(work, 'prod'));
  const prodBundle = readFileSync(join(prod.dir, prod.main), 'utf8');
  for (const marker of EDGE_MARKERS) check(!prodBundle.includes(marker), `the production bundle contains ${marker}`);
  const bundle = build('scripts/bench/edge/worker.ts', join(work, 'edge'));

  const server = await serve({
    bundle,
    persistDir,
    port: 0,
    vars: {
      ADMIN_API_KEY: token,
      RATE_LIMIT_PREDICTION: UNLIMITED,
      RATE_LIMIT_MANAGEMENT: UNLIMITED,
      ...delayVars(delays),
    },
    stdio,
  });
  const api = apiClient(() => server.url, token);

  const wrapped = await api('GET', '/__edge/bindings');
  check(wrapped.status === 200, `edge bindings: ${wrapped.status} ${JSON.stringify(wrapped.body)}`);
  for (const [name, kind] of Object.entries(EXPECTED_BINDINGS)) {
    check(
      wrapped.body.wrapped[name] === kind,
      `binding ${name} is not wrapped as ${kind}: ${JSON.stringify(wrapped.body)}`,
    );
  }
  check(wrapped.body.caches === true, 'the global caches is not wrapped');

  const model = benchModels().find((m) => m.name === modelName);
  check(model, `no bench model named ${modelName}`);
  const created = await api('POST', '/v1/models', { name: model.name, ...model.fields });
  check(created.status === 201, `create ${model.name}: ${created.status} ${JSON.stringify(created.body)}`);
  const up = await api('POST', `/v1/models/${model.name}/versions`, model.bytes, {
    'content-type': 'application/octet-stream',
  });
  check(up.status === 201, `upload ${model.name}: ${up.status} ${JSON.stringify(up.body)}`);
  const key = await api('POST', '/v1/api-keys', { name: 'edge predictions', scopes: ['predict'] });
  check(key.status === 201, `create API key: ${key.status} ${JSON.stringify(key.body)}`);
  return { server, api, model, bundle, predictKey: key.body.key };
}

/** Sets the isolate's delays now (a running server); answers what it holds. */
export async function setDelays(origin, delays) {
  const res = await fetch(`${origin}/__edge/delays`, { method: 'POST', body: JSON.stringify(delays) });
  const body = await res.json();
  check(res.ok, `set delays: ${res.status} ${JSON.stringify(body)}`);
  return body.delays;
}

/** The isolate's call counts and D1 log since the last reset; `reset` starts a new period. */
export async function edgeStats(origin, { reset = false } = {}) {
  const res = await fetch(`${origin}/__edge/stats${reset ? '?reset=1' : ''}`);
  const body = await res.json();
  check(res.ok, `edge stats: ${res.status} ${JSON.stringify(body)}`);
  return body;
}
