// What every benchmark run starts from: both bundles built (the production one checked for
// bench routes), the bench bundle served on workerd, the models uploaded and floor B prepared.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient } from '../lib/api-client.mjs';
import { freePort } from './inspector.mjs';
import { benchModels, instancesOf } from './models.mjs';
import { build, serve } from './serve.mjs';

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/*
 * Rate limits far above anything the load reaches: the bench measures the limiter's cost (one
 * Durable Object call per request), never its refusals.
 */
const UNLIMITED = String(2 ** 40);

/** An API key of the default workspace, created with the admin key, as a team would issue one. */
async function createKey(api, name, scopes) {
  const res = await api('POST', '/v1/api-keys', { name, scopes });
  check(res.status === 201, `create API key ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.key;
}

/**
 * `work` holds the bundles and model files; `persistDir` the local D1/R2/KV/Cache data. Answers,
 * beside the server, `predictKey` (an API key with the `predict` scope only: what the measured
 * paths send) and `jobsKey` (`jobs` only: what submits the batch job).
 */
export async function startBenchServer({ work, persistDir, token, stdio, inspectorPort, vars = {} }) {
  const prod = build('workers/index.ts', join(work, 'prod'));
  const prodBundle = readFileSync(join(prod.dir, prod.main), 'utf8');
  check(!prodBundle.includes('/__bench/'), 'the production bundle contains bench routes');
  const bundle = build('scripts/bench/worker.ts', join(work, 'worker'));

  const server = await serve({
    bundle,
    persistDir,
    port: 0,
    vars: {
      ENVIRONMENT: 'development',
      ADMIN_API_KEY: token,
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      RATE_LIMIT_PREDICTION: UNLIMITED,
      RATE_LIMIT_MANAGEMENT: UNLIMITED,
      // The queue-path batch job's input: 100,000 rows of the largest batch model.
      MAX_UPLOAD_BYTES: String(256 * 2 ** 20),
      ...vars,
    },
    stdio,
    inspectorPort,
  });
  const api = apiClient(() => server.url, token);

  const models = benchModels();
  for (const m of models) {
    const created = await api('POST', '/v1/models', { name: m.name, ...m.fields });
    check(created.status === 201, `create ${m.name}: ${created.status} ${JSON.stringify(created.body)}`);
    const up = await api('POST', `/v1/models/${m.name}/versions`, m.bytes, {
      'content-type': 'application/octet-stream',
    });
    check(up.status === 201, `upload ${m.name}: ${up.status} ${JSON.stringify(up.body)}`);
    m.path = join(work, 'models', `${m.name}.onnx`);
    writeFileSync(m.path, m.bytes);
    m.body = JSON.stringify({ inputs: m.inputs });
    m.instancesBody = JSON.stringify({ instances: instancesOf(m) });
    const prep = await api('POST', `/__bench/prepare?key=${m.name}&model=${m.name}`, { inputs: m.inputs });
    check(prep.status === 200, `prepare ${m.name}: ${JSON.stringify(prep.body)}`);
  }
  // The rollout cells (iris): a copy of the model with two versions, behind three aliases.
  const iris = models.find((m) => m.name === 'iris');
  if (iris) iris.rollout = await rolloutModel(api, iris);
  const predictKey = await createKey(api, 'bench predictions', ['predict']);
  const jobsKey = await createKey(api, 'bench batch', ['jobs']);
  return { server, api, models, bundle, predictKey, jobsKey };
}

/**
 * The model's bytes with a doc_string appended (ModelProto field 6; the last value wins): the
 * same graph, other bytes, so it can be a second version of the same model.
 */
function variant(bytes, text) {
  const doc = Buffer.from(text);
  check(doc.length < 128, 'variant text too long for a one-byte length');
  return Buffer.concat([Buffer.from(bytes), Buffer.from([0x32, doc.length]), doc]);
}

/**
 * `<name>_rollout`: two versions of the same model behind a plain alias (`plain`), a two-route
 * split (`split`, 50/50) and one version with a 100% shadow (`shadow`).
 */
async function rolloutModel(api, m) {
  const name = `${m.name}_rollout`;
  const created = await api('POST', '/v1/models', { name, ...m.fields });
  check(created.status === 201, `create ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  for (const bytes of [m.bytes, variant(m.bytes, 'modelflare bench: second version')]) {
    const up = await api('POST', `/v1/models/${name}/versions`, bytes, { 'content-type': 'application/octet-stream' });
    check(up.status === 201, `upload ${name}: ${up.status} ${JSON.stringify(up.body)}`);
  }
  const aliases = {
    plain: { version: 1 },
    split: {
      routes: [
        { version: 1, weight: 50 },
        { version: 2, weight: 50 },
      ],
    },
    shadow: { version: 1, shadow: { version: 2, percent: 100 } },
  };
  for (const [alias, body] of Object.entries(aliases)) {
    const set = await api('PUT', `/v1/models/${name}/aliases/${alias}`, body);
    check(set.status === 200, `alias ${alias}: ${set.status} ${JSON.stringify(set.body)}`);
  }
  return name;
}

/** The body template of the miss path: before and after the one number that differs per request. */
function varyTemplate(m) {
  const marked = JSON.parse(m.body);
  const data = marked.inputs[0].data;
  data[data.length - 1] = '__VARY__';
  return JSON.stringify(marked).split('"__VARY__"');
}

/**
 * One request as tritonclient.http writes it with the binary tensor data extension: no
 * Content-Type, the JSON header (each input's `binary_data_size`; `binary_data_output` since no
 * output is named), then the inputs' little-endian bytes; `Inference-Header-Content-Length` says
 * where the header ends. FP32 inputs only (what the benchmark's CNN takes).
 */
export function binaryRequest(m) {
  const raws = m.inputs.map((input) => {
    check(input.datatype === 'FP32', `binary bench body: ${m.name}'s input ${input.name} is not FP32`);
    return Buffer.from(Float32Array.from(input.data).buffer);
  });
  const header = JSON.stringify({
    inputs: m.inputs.map(({ name, shape, datatype }, i) => ({
      name,
      shape,
      datatype,
      parameters: { binary_data_size: raws[i].byteLength },
    })),
    parameters: { binary_data_output: true },
  });
  return {
    headers: { 'inference-header-content-length': String(Buffer.byteLength(header)) },
    body: Buffer.concat([Buffer.from(header), ...raws]),
  };
}

/**
 * The load jobs of one model: url, method, headers, body (or `vary`), the X-Cache each must
 * answer with, and `log: 'off'` where the access log is to be silenced. `peer` is the peer
 * server's origin.
 */
export function pathJobs({ origin, peer, token, model: m }) {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const noStore = { ...auth, 'cache-control': 'no-store' };
  const post = (url, headers, body = m.body) => ({ url, method: 'POST', headers, body });
  const infer = `${origin}/v2/models/${m.name}/infer`;
  return {
    floorB: { job: post(`${origin}/__bench/run/${m.name}`, auth) },
    full: { job: post(infer, noStore), expectCache: 'BYPASS' },
    // The same with console.log silenced in the isolate: what the access log costs.
    fullNoLog: { job: post(infer, noStore), expectCache: 'BYPASS', log: 'off' },
    miss: { job: { ...post(infer, auth), body: undefined, vary: varyTemplate(m) }, expectCache: 'MISS' },
    hit: { job: post(infer, auth), expectCache: 'HIT' },
    instances: { job: post(`${origin}/v1/models/${m.name}/predict`, noStore, m.instancesBody), expectCache: 'BYPASS' },
    ...(m.binary ? { fullBinary: binaryJob(infer, token, m) } : {}),
    ...(peer
      ? { peer: { job: post(`${peer}/v2/models/${m.name}/infer`, { 'content-type': 'application/json' }) } }
      : {}),
    ...(m.rollout ? rolloutJobs(origin, m, noStore) : {}),
  };
}

/** The same V2 infer through a plain alias, a two-route split (with and without a routing key) and a 100% shadow. */
export function rolloutJobs(origin, m, headers) {
  const at = (alias) => `${origin}/v2/models/${m.rollout}/versions/${alias}/infer`;
  const post = (alias, extra = {}) => ({
    job: { url: at(alias), method: 'POST', headers: { ...headers, ...extra }, body: m.body },
    expectCache: 'BYPASS',
  });
  return {
    aliasPlain: post('plain'),
    aliasSplit: post('split'),
    aliasSplitKeyed: post('split', { 'modelflare-routing-key': 'bench-user-42' }),
    aliasShadow: post('shadow'),
  };
}

/** The full path with binary input and output: the same model, inputs and cache setting as `full`. */
function binaryJob(url, token, m) {
  const { headers, body } = binaryRequest(m);
  return {
    job: {
      url,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'cache-control': 'no-store', ...headers },
      bodyBase64: body.toString('base64'),
    },
    expectCache: 'BYPASS',
    binaryAnswer: true,
  };
}

export const floorAJob = (origin) => ({ url: `${origin}/__bench/constant` });

/** Silences (`off`) or restores (`on`) console.log in the bench isolate. */
export async function switchLog(origin, state) {
  const res = await fetch(`${origin}/__bench/console?log=${state}`);
  check(res.ok, `console switch: ${res.status}`);
  await res.arrayBuffer();
}

/**
 * For the investigation scripts: a bench server with workerd's inspector open, its console
 * output discarded, handed to `use` and disposed of afterwards.
 */
export async function withInspectedServer(name, use) {
  const work = join('bench', 'out');
  mkdirSync(join(work, 'models'), { recursive: true });
  const persistDir = mkdtempSync(join(tmpdir(), `modelflare-${name}-`));
  const token = `mf_admin_${randomBytes(24).toString('hex')}`;
  const inspectorPort = await freePort();
  let setup;
  try {
    setup = await startBenchServer({
      work,
      persistDir,
      token,
      inspectorPort,
      stdio: (out, err) => {
        out.resume();
        err.resume();
      },
    });
    return await use({ ...setup, work, token, inspectorPort });
  } finally {
    await setup?.server.dispose().catch(() => {});
    rmSync(persistDir, { recursive: true, force: true });
  }
}
