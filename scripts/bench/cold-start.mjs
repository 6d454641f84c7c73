// Cold start: a new workerd process (so a new isolate) per repetition, timed from outside.
// The Workers clock stands still while code runs, so each stage is its own request and the
// client's wall time is the figure (each includes one loopback round trip).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { model, node, valueInfo } from '../onnx/build.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(work) {
  const start = performance.now();
  const res = await work();
  if (res.status >= 300) throw new Error(`cold start step failed: ${res.status} ${JSON.stringify(res.body)}`);
  return performance.now() - start;
}

/** The smallest model ORT will load: initialising the runtime costs what it costs, whatever the model. */
const tinyModel = () =>
  model({
    inputs: [valueInfo('x', 'FP32', [1])],
    outputs: [valueInfo('y', 'FP32', [1])],
    nodes: [node('Identity', ['x'], ['y'])],
  });

/** V8's compile of ORT's WASM binary in Node, for scale: workerd does the same when it loads the script. */
export async function wasmCompileMs(outdir) {
  const file = readdirSync(outdir).find((f) => f.endsWith('.wasm'));
  const bytes = readFileSync(join(outdir, file));
  const start = performance.now();
  await WebAssembly.compile(bytes);
  return { ms: performance.now() - start, bytes: bytes.length };
}

/**
 * `server` restarts workerd; `api` calls it; `target` is the model (name, request inputs).
 * Two kinds of repetition: the first prediction as a client sees it, and the stages apart.
 */
export async function coldStart({ server, api, target, reps }) {
  const infer = () =>
    api('POST', `/v2/models/${target.name}/infer`, { inputs: target.inputs }, { 'cache-control': 'no-store' });
  const query = `?model=${target.name}`;
  const firsts = [];
  const stages = [];
  for (let i = 0; i < reps; i++) {
    const restartMs = await timed(async () => (await server.restart(), { status: 200 }));
    const first = await timed(infer);
    const second = await timed(infer);
    firsts.push({ restartMs, firstPredictionMs: first, warmPredictionMs: second });

    await server.restart();
    const s = {};
    s.firstRequest = await timed(() => api('GET', '/__bench/constant'));
    s.ortInit = await timed(() => api('POST', '/__bench/stage/ort-init', tinyModel()));
    s.registry = await timed(() => api('POST', `/__bench/stage/registry${query}`));
    s.bytesFromR2 = await timed(() => api('POST', `/__bench/stage/bytes-r2${query}`));
    let cached;
    s.bytesFromCacheApi = await timed(async () => (cached = await api('POST', `/__bench/stage/bytes-cache${query}`)));
    if (cached.body.size === null)
      throw new Error('the model file is not in the Cache API: the R2 read did not fill it');
    s.sessionCreate = await timed(() => api('POST', '/__bench/stage/session'));
    s.firstPredictionAfterStages = await timed(infer);
    s.warmPrediction = await timed(infer);
    stages.push(s);
  }
  const med = (rows, key) => median(rows.map((r) => r[key]));
  return {
    model: target.name,
    size_bytes: target.bytes.length,
    reps,
    workerd_restart_ms: med(firsts, 'restartMs'),
    first_prediction_ms: med(firsts, 'firstPredictionMs'),
    warm_prediction_ms: med(firsts, 'warmPredictionMs'),
    stages_ms: Object.fromEntries(Object.keys(stages[0]).map((k) => [k, med(stages, k)])),
    runs: { firsts, stages },
  };
}
