// The bench's backends cell: the native runner (runner/src/server.mjs, as npm start runs it)
// beside the bench's workerd, the CNN uploaded a second time as a runner version, and a model
// too large for the isolate (over 100 MiB, generated) served by the runner and by the peer
// (onnxruntime-node alone). Their cells run in the same interleaved rounds as the others.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildLargeModel } from '../onnx/large-model.mjs';
import { freePort } from './inspector.mjs';
import { check } from './setup.mjs';

export const LARGE_BYTES = 112 * 2 ** 20;

/** A port for the runner and its token: known before workerd starts (its RUNNER_URL). */
export async function runnerPlan(token) {
  const port = await freePort();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    token,
    vars: { RUNNER_URL: `http://127.0.0.1:${port}`, RUNNER_TOKEN: token },
  };
}

/** Starts the runner, fetching model files from `sourceUrl`; resolves once it answers. */
export async function startRunner(plan, sourceUrl) {
  const child = spawn(process.execPath, ['runner/src/server.mjs'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(plan.port),
      RUNNER_TOKEN: plan.token,
      MODEL_SOURCE_URL: sourceUrl,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${plan.url}/v2/health/ready`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`the runner did not start on ${plan.url}`);
}

/**
 * Uploads the CNN as a runner version (`cnn-runner`) and the large model (over MAX_MODEL_BYTES:
 * the runner serves it without being asked); writes the large file for the peer. Answers the
 * large model as a bench model and what its first prediction (the runner's cold load) took.
 */
export async function prepareBackends({ api, server, token, cnn, work }) {
  const up = await api('POST', '/v1/models/cnn-runner/versions?backend=runner', cnn.bytes, {
    'content-type': 'application/octet-stream',
  });
  check(
    up.status === 201 && up.body.backend === 'runner',
    `upload cnn-runner: ${up.status} ${JSON.stringify(up.body)}`,
  );
  const built = buildLargeModel(LARGE_BYTES, 1024, 16);
  const large = {
    name: 'large',
    about: `MatMul 1024 x ${((built.bytes.length / 4 / 1024) | 0).toLocaleString('en')} + tanh + head 16, FP32 (generated)`,
    bytes: built.bytes,
    inputs: [
      {
        name: 'features',
        datatype: 'FP32',
        shape: [1, 1024],
        data: Array.from({ length: 1024 }, (_, i) => Math.sin(i) / 2),
      },
    ],
  };
  large.body = JSON.stringify({ inputs: large.inputs });
  large.path = join(work, 'models', 'large.onnx');
  writeFileSync(large.path, built.bytes);
  const upLarge = await api('POST', '/v1/models/large/versions', built.bytes, {
    'content-type': 'application/octet-stream',
  });
  check(
    upLarge.status === 201 && upLarge.body.backend === 'runner',
    `upload large: ${upLarge.status} ${JSON.stringify(upLarge.body)}`,
  );
  const started = performance.now();
  const first = await fetch(`${server.url}/v2/models/large/infer`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'cache-control': 'no-store',
    },
    body: large.body,
  });
  const text = await first.text();
  check(first.status === 200, `large first prediction: ${first.status} ${text.slice(0, 300)}`);
  return { large, coldMs: performance.now() - started };
}

/** The cells: the CNN through the runner, the large model through the runner and the peer. */
export function backendCells({ origin, peer, token, cnn, large, concurrency }) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'cache-control': 'no-store' };
  const post = (url, body, h = headers) => ({ url, method: 'POST', headers: h, body });
  return concurrency.flatMap((c) => [
    {
      scenario: 'runner',
      model: cnn,
      c,
      job: post(`${origin}/v2/models/cnn-runner/infer`, cnn.body),
      expectCache: 'BYPASS',
    },
    {
      scenario: 'runner',
      model: large,
      c,
      job: post(`${origin}/v2/models/large/infer`, large.body),
      expectCache: 'BYPASS',
    },
    {
      scenario: 'peer',
      model: large,
      c,
      job: post(`${peer}/v2/models/large/infer`, large.body, { 'content-type': 'application/json' }),
    },
  ]);
}

/** Ratios of the same run: runner against the isolate (full path) and against onnxruntime-node alone (the peer). */
export function summarizeBackends(cells, { coldMs, threads, largeBytes }) {
  const get = (scenario, model, c) =>
    cells.find((x) => x.scenario === scenario && x.model === model && x.concurrency === c);
  const row = (model, via) => {
    const [r1, r32, b1, b32] = [
      get('runner', model, 1),
      get('runner', model, 32),
      get(via, model, 1),
      get(via, model, 32),
    ];
    return {
      model,
      against: via,
      runner_rps_c32: r32.rps,
      other_rps_c32: b32.rps,
      rps_c32_ratio: r32.rps / b32.rps,
      runner_p50_ms_c1: r1.p50_ms,
      other_p50_ms_c1: b1.p50_ms,
      p50_c1_ratio: r1.p50_ms / b1.p50_ms,
    };
  };
  return {
    runner_threads: threads,
    large_model_bytes: largeBytes,
    large_first_prediction_ms: coldMs,
    rows: [row('cnn', 'full'), row('cnn', 'peer'), row('large', 'peer')],
  };
}

export function renderBackends(b) {
  const f = (n, d = 0) => n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
  const name = { full: 'the isolate (V2 full path)', peer: 'onnxruntime-node alone (the peer)' };
  const lines = [
    '',
    `### Backends: the native runner (${b.runner_threads} intra-op threads; the peer and the isolate use one)`,
    '',
    '| model | runner against | runner req/s c=32 | theirs | ratio | runner p50 c=1 (ms) | theirs | ratio |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...b.rows.map(
      (r) =>
        `| ${r.model} | ${name[r.against]} | ${f(r.runner_rps_c32)} | ${f(r.other_rps_c32)} | ${f(r.rps_c32_ratio, 2)} | ${f(r.runner_p50_ms_c1, 2)} | ${f(r.other_p50_ms_c1, 2)} | ${f(r.p50_c1_ratio, 2)} |`,
    ),
    '',
    `The large model (${f(b.large_model_bytes / 2 ** 20, 1)} MiB, over MAX_MODEL_BYTES) streamed to R2 and went to the runner; its first prediction, the runner fetching the file from the worker, checking its sha256 and loading it, took ${f(b.large_first_prediction_ms)} ms.`,
  ];
  return lines.join('\n');
}
