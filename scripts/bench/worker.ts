import { DEFAULT_WORKSPACE_ID } from '../../workers/auth/principal';
import type { Tensor, TensorData } from '../../workers/core/tensor';
import { platformDeps, type PlatformDeps } from '../../workers/platform/deps';
import type { Env } from '../../workers/platform/env';
import { createWorker } from '../../workers/index';

// The rate limiter's Durable Object class, which API-key requests call.
export { RateLimiter } from '../../workers/index';
import { readCachedModelBytes, readStoredModelBytes } from '../../workers/inference/model-bytes';
import { withSession } from '../../workers/inference/model-runs';
import { resolveServed, resolveTarget, type ServedVersion } from '../../workers/inference/served-versions';
import { assignRoute } from '../../workers/inference/routing';
import { RouteMetrics, type RouteMetricsDeps } from '../../workers/monitoring/route-metrics';
import type { InferenceRequest, NamedTensors } from '../../workers/inference/types';
import { selectOutputs, validateInputs } from '../../workers/inference/validate-inputs';
import { splitLines } from '../../workers/batch/plan-chunks';
import type { ModelSession } from '../../workers/runtime/model-session';
import { loadOnnxModel } from '../../workers/runtime/onnx-session';
import { ortRuntime } from '../../workers/runtime/ort-env';

/*
 * The benchmark's worker entry: the production app unchanged, plus /__bench/* routes that
 * exist only in this bundle (scripts/bench builds it; wrangler.toml's main never includes it).
 * These routes measure what the app cannot: the floors it is compared with, and the stages of a
 * cold start one request at a time. The cold-start stages and floor B are timed by the client
 * from outside. The batch figures (raw session.run, the JSON floor) are timed inside, around the
 * work alone: workerd's clock advances while code runs locally (deployed it stands still between
 * I/O), and the peer times its own loop the same way.
 */

interface Prepared {
  session: ModelSession;
  inputs: NamedTensors;
  outputs: string[];
}

const prepared = new Map<string, Prepared>();
/** Bytes read by the last `bytes` stage, kept for the `session` stage that follows it. */
let heldBytes: Uint8Array | undefined;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const FLOOR_A = '{"ok":true}';

const worker = createWorker();

function deps(env: Env, ctx: ExecutionContext): PlatformDeps {
  return platformDeps(env, worker.servicesFor(env), (work) => ctx.waitUntil(work));
}

const scope = { workspaceId: DEFAULT_WORKSPACE_ID, actorId: 'bench' };

function served(env: Env, ctx: ExecutionContext, url: URL): Promise<ServedVersion> {
  return resolveServed(
    deps(env, ctx),
    scope,
    url.searchParams.get('model') ?? '',
    url.searchParams.get('version') ?? undefined,
  );
}

/** Repeats a batch-of-one tensor `rows` times along its first dimension. */
function tile(tensor: Tensor, rows: number): Tensor {
  const data = tensor.data;
  const n = data.length;
  let out: TensorData;
  if (Array.isArray(data)) {
    out = Array.from({ length: n * rows }, (_, i) => data[i % n]!);
  } else {
    const typed = new (data.constructor as new (length: number) => typeof data)(n * rows);
    for (let r = 0; r < rows; r++) (typed as Float32Array).set(data as Float32Array, r * n);
    out = typed;
  }
  return { ...tensor, shape: [tensor.shape[0]! * rows, ...tensor.shape.slice(1)], data: out };
}

async function prepare(request: Request, env: Env, ctx: ExecutionContext, url: URL): Promise<Response> {
  const version = await served(env, ctx, url);
  const body = (await request.json()) as InferenceRequest;
  const inputs = validateInputs(version.signature, body.inputs);
  const outputs = selectOutputs(version.signature, body.outputs);
  // Held outside the LRU on purpose: the floor must not pay for the cache's bookkeeping.
  const session = await withSession(deps(env, ctx), version, undefined, async (s) => s);
  prepared.set(url.searchParams.get('key') ?? '', { session, inputs, outputs });
  return json({ ok: true, version: version.version });
}

async function floorB(request: Request, key: string): Promise<Response> {
  const p = prepared.get(key);
  if (!p) return json({ error: `nothing prepared under '${key}'` }, 404);
  // The body is read (not parsed): a connection whose request body is left unread is closed.
  await request.arrayBuffer();
  await p.session.run(p.inputs, p.outputs);
  return new Response(FLOOR_A, { headers: { 'content-type': 'application/json' } });
}

/**
 * `runs` batched session.run calls of `rows` rows each, timed here around the calls alone (the
 * tensors are tiled before the clock starts), as the peer times its own: the same clock on both
 * sides. workerd's local clock advances while code runs (in production it would not).
 */
async function batch(url: URL): Promise<Response> {
  const p = prepared.get(url.searchParams.get('key') ?? '');
  if (!p) return json({ error: 'nothing prepared' }, 404);
  const rows = Number(url.searchParams.get('rows') ?? 1000);
  const runs = Number(url.searchParams.get('runs') ?? 1);
  const inputs = Object.fromEntries(Object.entries(p.inputs).map(([name, t]) => [name, tile(t, rows)]));
  let checksum = 0;
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const out = await p.session.run(inputs, p.outputs);
    checksum += out[p.outputs[0]!]!.data.length;
  }
  const seconds = (performance.now() - start) / 1000;
  return json({ rows: rows * runs, checksum, seconds });
}

/**
 * What a split adds to a request, timed by the isolate around `n` repetitions (workerd's clock
 * advances while code runs locally): assigning the route (with a routing key, or at random)
 * and counting the request against it, on the alias as the isolate caches it.
 */
async function splitCost(env: Env, ctx: ExecutionContext, url: URL): Promise<Response> {
  const d = deps(env, ctx);
  const target = await resolveTarget(
    d,
    scope,
    url.searchParams.get('model') ?? '',
    url.searchParams.get('alias') ?? '',
  );
  const split = target.split;
  if (!split || split.routes.length < 2) return json({ error: 'not a split alias' }, 400);
  const n = Number(url.searchParams.get('n') ?? 1_000_000);
  const keys = Array.from({ length: 1024 }, (_, i) => `bench-user-${i}`);
  // A buffer of its own that never writes: only the counting is timed.
  const counts = new RouteMetrics();
  const quiet = { ...d, flushesWhenDone: true } as RouteMetricsDeps;
  const served = new Map<number, number>();
  const time = (work: (i: number) => void) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) work(i);
    return ((performance.now() - start) * 1e6) / n;
  };
  const random = time(() => {
    const route = assignRoute(split, undefined, Math.random);
    served.set(route.index, (served.get(route.index) ?? 0) + 1);
  });
  const keyed = time((i) => {
    assignRoute(split, keys[i & 1023], Math.random);
  });
  const counted = time((i) => {
    const route = split.routes[i & 1]!;
    counts.served(
      quiet,
      {
        workspaceId: scope.workspaceId,
        model: route.served.modelName,
        alias: split.alias,
        route: route.index,
        version: route.served.version,
      },
      false,
      { latencyMs: 0.5, rows: 1, cache: 'BYPASS' },
    );
  });
  return json({ n, ns_per_request: { random, keyed, counted }, served: Object.fromEntries(served) });
}

/** A job's input and its result lines, held in the isolate for the JSON floor (`jsonl-*` routes). */
interface HeldJob {
  bytes: Uint8Array;
  chunks: { offset: number; length: number; rows: number; first: number }[];
  /** Each row's result line without its index: what the job wrote for it. */
  results: Record<string, unknown>[];
  resultBytes: number;
}
let heldJob: HeldJob | undefined;

/** Holds the input of a job and where its chunks of `chunk_rows` rows start, as the planner cuts them. */
async function jsonlInput(request: Request, url: URL): Promise<Response> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  const chunkRows = Number(url.searchParams.get('chunk_rows') ?? 1000);
  const chunks: HeldJob['chunks'] = [];
  let offset = 0;
  let rows = 0;
  let first = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    rows += 1;
    if (rows === chunkRows || i === bytes.length - 1) {
      chunks.push({ offset, length: i + 1 - offset, rows, first });
      first += rows;
      offset = i + 1;
      rows = 0;
    }
  }
  heldJob = { bytes, chunks, results: [], resultBytes: 0 };
  return json({ rows: first, chunks: chunks.length });
}

/** Holds the result lines the job wrote for that input (GET /v1/jobs/{id}/results). */
async function jsonlResults(request: Request): Promise<Response> {
  if (!heldJob) return json({ error: 'send the input first' }, 409);
  const text = await request.text();
  heldJob.results = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const { index: _, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });
  heldJob.resultBytes = new TextEncoder().encode(text).length;
  return json({ rows: heldJob.results.length });
}

/**
 * The JSON a JSON Lines job does per row whatever the model, alone: each chunk's bytes decoded
 * and split into lines as the chunk runner splits them, every line parsed, and a result line of
 * the size the job wrote (its own prediction for that row) serialised and joined. No model, no
 * R2, D1 or queue. Timed here, around that work only, once per run.
 */
function jsonlRun(url: URL): Response {
  const job = heldJob;
  if (!job || job.results.length === 0) return json({ error: 'send the input and the results first' }, 409);
  const runs = Number(url.searchParams.get('runs') ?? 3);
  const pass = () => {
    let chars = 0;
    for (const chunk of job.chunks) {
      const lines = splitLines(job.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.rows, chunk.offset);
      const parsed = lines.map((line) => JSON.parse(line) as unknown);
      const out = parsed
        .map((_, k) => JSON.stringify({ index: chunk.first + k, ...job.results[chunk.first + k] }))
        .join('\n')
        .concat('\n');
      chars += out.length;
    }
    return chars;
  };
  // Whole passes until 100 ms have gone by: the isolate's clock ticks in milliseconds.
  const ms: number[] = [];
  let chars = 0;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    let passes = 0;
    do {
      chars = pass();
      passes += 1;
    } while (performance.now() - start < 100);
    ms.push((performance.now() - start) / passes);
  }
  return json({ rows: job.results.length, ms, result_chars: chars });
}

/** Cold-start stages, each one request so the client can time it. */
async function stage(name: string, request: Request, env: Env, ctx: ExecutionContext, url: URL): Promise<Response> {
  switch (name) {
    case 'ort-init': {
      // Instantiates ORT's WASM module by loading a tiny model sent in the body.
      await ortRuntime();
      const loaded = await loadOnnxModel(new Uint8Array(await request.arrayBuffer()));
      await loaded.session.release();
      return json({ ok: true });
    }
    case 'registry': {
      const version = await served(env, ctx, url);
      return json({ version: version.version, size: version.sizeBytes });
    }
    case 'bytes-r2': {
      const version = await served(env, ctx, url);
      heldBytes = await readStoredModelBytes(env.BUCKET, version.artifactKey);
      return json({ size: heldBytes.byteLength });
    }
    case 'bytes-cache': {
      const version = await served(env, ctx, url);
      const bytes = await readCachedModelBytes(version.sha256);
      if (bytes) heldBytes = bytes;
      return json({ size: bytes?.byteLength ?? null });
    }
    case 'session': {
      if (!heldBytes) return json({ error: 'read the bytes first' }, 409);
      const loaded = await loadOnnxModel(heldBytes);
      await loaded.session.release();
      return json({ ok: true });
    }
    default:
      return json({ error: `unknown stage '${name}'` }, 404);
  }
}

const consoleLog = console.log;

/** Silences console.log in this isolate (the access log) to measure what it costs; `on` restores it. */
function consoleSwitch(url: URL): Response {
  const on = url.searchParams.get('log') !== 'off';
  console.log = on ? consoleLog : () => undefined;
  return json({ log: on });
}

/** `n` console.log calls of `len` characters in one request: the price of a line once a request logs. */
function logLoop(url: URL): Response {
  const n = Number(url.searchParams.get('n') ?? 1000);
  const line = 'x'.repeat(Number(url.searchParams.get('len') ?? 200));
  for (let i = 0; i < n; i++) console.log(line);
  return json({ n });
}

/**
 * `n` requests through the production app one after another inside the isolate, each one
 * answered and read: the cost of one path with no network or load generator around it.
 */
async function loop(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const spec = (await request.json()) as {
    n: number;
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
  };
  const started = Date.now();
  const statuses: Record<number, number> = {};
  for (let i = 0; i < spec.n; i++) {
    // A client's Content-Length: without one the body limit buffers the body to count it.
    const headers = new Headers(spec.headers);
    if (spec.body !== undefined) headers.set('content-length', String(new TextEncoder().encode(spec.body).byteLength));
    const res = await handle(
      new Request(`http://bench.local${spec.path}`, { method: spec.method, headers, body: spec.body }),
      env,
      ctx,
    );
    await res.arrayBuffer();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  }
  return json({ ms: Date.now() - started, statuses });
}

async function bench(request: Request, env: Env, ctx: ExecutionContext, url: URL): Promise<Response> {
  const [, , route, arg] = url.pathname.split('/');
  if (route === 'loop') return loop(request, env, ctx);
  if (route === 'console') return consoleSwitch(url);
  if (route === 'log-loop') return logLoop(url);
  if (route === 'constant') return new Response(FLOOR_A, { headers: { 'content-type': 'application/json' } });
  if (route === 'run') return floorB(request, arg ?? '');
  if (route === 'prepare') return prepare(request, env, ctx, url);
  if (route === 'batch') return batch(url);
  if (route === 'split-cost') return splitCost(env, ctx, url);
  if (route === 'jsonl-input') return jsonlInput(request, url);
  if (route === 'jsonl-results') return jsonlResults(request);
  if (route === 'jsonl-run') return jsonlRun(url);
  if (route === 'stage') return stage(arg ?? '', request, env, ctx, url);
  return json({ error: 'unknown bench route' }, 404);
}

async function handle(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  // A string test, not a URL parse, so the production routes pay nothing for this wrapper.
  if (request.url.includes('/__bench/')) {
    try {
      return await bench(request, env, ctx, new URL(request.url));
    } catch (err) {
      return json({ error: err instanceof Error ? err.message : String(err) }, 500);
    }
  }
  return worker.fetch(request, env, ctx);
}

export default {
  fetch: handle,
  // The batch figure runs a real job through the queue consumers.
  queue: worker.queue,
  scheduled: worker.scheduled,
} satisfies ExportedHandler<Env>;
