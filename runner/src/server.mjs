#!/usr/bin/env node
// @ts-check
/*
 * modelflare's native runner: an Open Inference Protocol V2 REST server (with the binary tensor
 * data extension) on onnxruntime-node, for versions the worker's isolate cannot serve. Models
 * are named by version id; a call that names one not loaded yet says where its file is
 * (Modelflare-Model-Source/-Sha256/-Size), and the runner fetches it from the worker.
 *
 *   PORT                 where it listens (8080)
 *   HOST                 the address it binds (0.0.0.0; npm start uses 127.0.0.1)
 *   RUNNER_TOKEN         the bearer token the worker presents, and the runner presents back for files
 *   MODEL_SOURCE_URL     the worker (or, in a container, the host its Durable Object answers)
 *   RUNNER_MEMORY_BYTES  memory loaded models may take (70% of the memory the process may use)
 *   RUNNER_THREADS       onnxruntime intra-op threads per session (the CPUs it has)
 *   RUNNER_MAX_BODY_BYTES  largest request body (256 MiB)
 */
import { createServer } from 'node:http';
import { availableParallelism, totalmem } from 'node:os';
import { timingSafeEqual, createHash } from 'node:crypto';
import { ModelStore, SourceError } from './models.mjs';
import { BadRequest, binaryData, jsonData, toOrtTensor } from './tensors.mjs';

const VERSION = '0.1.0';
const INFERENCE_HEADER = 'inference-header-content-length';

/** @param {string} name @param {number} fallback */
function numberVar(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, not ${JSON.stringify(raw)}`);
  return value;
}

// constrainedMemory() is the cgroup's limit in a container; without one it is a huge number.
const constrained = /** @type {any} */ (process).constrainedMemory?.() ?? 0;
const memory = constrained > 0 && constrained < totalmem() ? constrained : totalmem();
const config = {
  port: numberVar('PORT', 8080),
  host: process.env.HOST || '0.0.0.0',
  token: process.env.RUNNER_TOKEN ?? '',
  sourceUrl: (process.env.MODEL_SOURCE_URL ?? '').replace(/\/+$/, ''),
  memoryBytes: numberVar('RUNNER_MEMORY_BYTES', Math.floor(memory * 0.7)),
  threads: numberVar('RUNNER_THREADS', availableParallelism()),
  maxBodyBytes: numberVar('RUNNER_MAX_BODY_BYTES', 256 * 1024 * 1024),
};
if (config.token.length < 32)
  throw new Error('RUNNER_TOKEN must be set to at least 32 characters (the worker presents it)');
if (!config.sourceUrl) throw new Error('MODEL_SOURCE_URL must name where model files are fetched from (the worker)');

/** @param {string} event @param {Record<string, unknown>} fields */
const log = (event, fields = {}) => console.log(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));

const models = new ModelStore({
  maxBytes: config.memoryBytes,
  threads: config.threads,
  sourceUrl: config.sourceUrl,
  token: config.token,
  log,
});
const counters = { requests: 0, inferences: 0, inferErrors: 0, inferSeconds: 0 };

class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const tokenDigest = createHash('sha256').update(config.token).digest();
/** @param {import('node:http').IncomingMessage} req */
function authorized(req) {
  const given = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
  return timingSafeEqual(createHash('sha256').update(given).digest(), tokenDigest);
}

/** @param {import('node:http').IncomingMessage} req @returns {Promise<Buffer>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > config.maxBodyBytes)
      return reject(new HttpError(413, `the body is larger than ${config.maxBodyBytes} bytes`));
    /** @type {Buffer[]} */
    const chunks = [];
    let total = 0;
    req.on('data', (chunk) => {
      total += chunk.length;
      if (total > config.maxBodyBytes) {
        req.destroy();
        reject(new HttpError(413, `the body is larger than ${config.maxBodyBytes} bytes`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** @param {import('node:http').IncomingMessage} req @returns {import('./models.mjs').Source | undefined} */
function sourceOf(req) {
  const key = req.headers['modelflare-model-source'];
  const sha256 = req.headers['modelflare-model-sha256'];
  const size = Number(req.headers['modelflare-model-size']);
  if (typeof key !== 'string' || typeof sha256 !== 'string' || !Number.isSafeInteger(size)) return undefined;
  return { key, sha256, size };
}

/** @param {import('node:http').IncomingMessage} req @param {string} id */
async function modelFor(req, id) {
  const loaded = await models.get(id, sourceOf(req));
  if (!loaded)
    throw new HttpError(404, `model '${id}' is not loaded here and the request does not say where its file is`);
  return loaded;
}

/**
 * @param {import('./models.mjs').Loaded} model
 * @param {Buffer} body
 * @param {import('node:http').IncomingMessage} req
 * @param {string} id
 */
async function infer(model, body, req, id) {
  const declared = req.headers[INFERENCE_HEADER];
  const headerLength = declared === undefined ? body.byteLength : Number(declared);
  if (!Number.isSafeInteger(headerLength) || headerLength > body.byteLength)
    throw new BadRequest(`${INFERENCE_HEADER} is not within the body`);
  /** @type {any} */
  let request;
  try {
    request = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  } catch {
    throw new BadRequest('the inference request is not valid JSON');
  }
  if (!request || !Array.isArray(request.inputs)) throw new BadRequest("the inference request has no 'inputs' array");
  const sections = body.subarray(headerLength);
  let at = 0;
  /** @type {Record<string, any>} */
  const feeds = {};
  for (const input of request.inputs) {
    const size = input?.parameters?.binary_data_size;
    let binary;
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || at + size > sections.byteLength)
        throw new BadRequest(`input '${input.name}': binary_data_size runs past the body`);
      binary = sections.subarray(at, at + size);
      at += size;
    }
    feeds[input.name] = toOrtTensor(input, binary);
  }
  const allBinary = request.parameters?.binary_data_output === true;
  /** @type {{ name: string, binary: boolean }[]} */
  const wanted = Array.isArray(request.outputs)
    ? request.outputs.map((/** @type {any} */ o) => ({
        name: String(o.name),
        binary: o.parameters?.binary_data ?? allBinary,
      }))
    : model.signature.outputs.map((o) => ({ name: o.name, binary: allBinary }));
  for (const w of wanted) {
    if (!model.signature.outputs.some((o) => o.name === w.name))
      throw new BadRequest(`the model has no output '${w.name}'`);
  }
  const started = performance.now();
  model.runs += 1;
  let results;
  try {
    results = await model.session.run(
      feeds,
      wanted.map((w) => w.name),
    );
  } catch (err) {
    throw new BadRequest(`onnxruntime refused the inputs: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    model.runs -= 1;
    model.lastUsed = performance.now();
  }
  counters.inferSeconds += (performance.now() - started) / 1000;
  /** @type {Uint8Array[]} */
  const binaries = [];
  const outputs = wanted.map((w) => {
    const datatype = /** @type {import('./tensors.mjs').Datatype} */ (
      model.signature.outputs.find((o) => o.name === w.name)?.datatype
    );
    const tensor = /** @type {import('onnxruntime-node').Tensor} */ (results[w.name]);
    const head = { name: w.name, datatype, shape: [...tensor.dims] };
    if (!w.binary) return { ...head, data: jsonData(tensor, datatype) };
    const bytes = binaryData(tensor, datatype);
    binaries.push(bytes);
    return { ...head, parameters: { binary_data_size: bytes.byteLength } };
  });
  const json = Buffer.from(
    JSON.stringify({
      model_name: id,
      model_version: '1',
      ...(request.id === undefined ? {} : { id: request.id }),
      outputs,
    }),
  );
  if (binaries.length === 0) return { body: json, headers: { 'content-type': 'application/json' } };
  return {
    body: Buffer.concat([json, ...binaries]),
    headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER]: String(json.byteLength) },
  };
}

function metrics() {
  const lines = [
    ['modelflare_runner_models_loaded', 'gauge', 'Models loaded', models.count],
    ['modelflare_runner_model_bytes', 'gauge', 'Bytes of the loaded models (file sizes)', models.usedBytes],
    ['modelflare_runner_model_bytes_limit', 'gauge', 'RUNNER_MEMORY_BYTES', config.memoryBytes],
    ['modelflare_runner_loads_total', 'counter', 'Model loads', models.stats.loads],
    ['modelflare_runner_load_failures_total', 'counter', 'Model loads onnxruntime refused', models.stats.loadFailures],
    ['modelflare_runner_load_seconds_total', 'counter', 'Time spent loading models', models.stats.loadSeconds],
    ['modelflare_runner_evictions_total', 'counter', 'Models evicted to make room', models.stats.evictions],
    ['modelflare_runner_requests_total', 'counter', 'HTTP requests', counters.requests],
    ['modelflare_runner_inferences_total', 'counter', 'Inference requests', counters.inferences],
    ['modelflare_runner_inference_errors_total', 'counter', 'Inference requests that failed', counters.inferErrors],
    ['modelflare_runner_inference_seconds_total', 'counter', 'Time spent in session.run', counters.inferSeconds],
    ['modelflare_runner_threads', 'gauge', 'onnxruntime intra-op threads per session', config.threads],
  ];
  return lines
    .map(([name, type, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`)
    .join('');
}

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?(\/ready|\/infer)?$/;
const REPOSITORY_PATH = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;

/** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
async function handle(req, res) {
  counters.requests += 1;
  const path = (req.url ?? '/').replace(/\?.*$/, '').replace(/\/+$/, '') || '/';
  /** @param {number} status @param {unknown} body */
  const json = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && (path === '/v2/health/live' || path === '/v2/health/ready')) {
    return json(200, path.endsWith('live') ? { live: true } : { ready: true });
  }
  if (!authorized(req)) return json(401, { error: 'the runner needs its token: Authorization: Bearer <RUNNER_TOKEN>' });
  if (req.method === 'GET' && path === '/v2') {
    return json(200, {
      name: 'modelflare-runner',
      version: VERSION,
      extensions: ['binary_tensor_data', 'model_repository'],
    });
  }
  if (req.method === 'GET' && path === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    return res.end(metrics());
  }
  const repository = REPOSITORY_PATH.exec(path);
  if (req.method === 'POST' && repository) {
    const id = decodeURIComponent(repository[1] ?? '');
    if (repository[2] === 'unload') return json(200, { name: id, unloaded: await models.unload(id) });
    await modelFor(req, id);
    return json(200, { name: id, loaded: true });
  }
  const match = MODEL_PATH.exec(path);
  if (!match) return json(404, { error: `no route ${req.method} ${path}` });
  const id = decodeURIComponent(match[1] ?? '');
  const action = match[2];
  if (req.method === 'GET' && action === undefined) {
    const model = await modelFor(req, id);
    return json(200, { name: id, versions: ['1'], platform: 'onnxruntime_onnx', ...model.signature });
  }
  if (req.method === 'GET' && action === '/ready') {
    await modelFor(req, id);
    return json(200, { name: id, ready: true });
  }
  if (req.method === 'POST' && action === '/infer') {
    counters.inferences += 1;
    try {
      const body = await readBody(req);
      const answer = await infer(await modelFor(req, id), body, req, id);
      res.writeHead(200, answer.headers);
      return res.end(answer.body);
    } catch (err) {
      counters.inferErrors += 1;
      throw err;
    }
  }
  return json(405, { error: `${req.method} is not served on ${path}` });
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    const status =
      err instanceof HttpError ? err.status : err instanceof BadRequest ? 400 : err instanceof SourceError ? 502 : 500;
    if (status === 500) log('error', { message: err instanceof Error ? err.stack : String(err) });
    if (!res.headersSent) {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
    } else res.destroy();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(config.port, config.host, () => {
  log('runner listening', {
    host: config.host,
    port: config.port,
    threads: config.threads,
    memory_bytes: config.memoryBytes,
    source: config.sourceUrl,
  });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
