// The peer: what a user would run instead of modelflare — a plain Node HTTP server with
// onnxruntime-node answering Open Inference Protocol infer requests for the same models.
// No auth, no registry, no cache, no validation beyond what onnxruntime does. One intra-op
// thread, like the single-threaded isolate. Forked by run.mjs; reports its port over IPC.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';

const ARRAYS = {
  FP32: [Float32Array, 'float32'],
  FP64: [Float64Array, 'float64'],
  INT32: [Int32Array, 'int32'],
  INT64: [BigInt64Array, 'int64'],
};
const DATATYPE = Object.fromEntries(Object.entries(ARRAYS).map(([d, [, t]]) => [t, d]));

function toTensor({ datatype, shape, data }) {
  const [Array_, type] = ARRAYS[datatype] ?? [];
  if (!Array_) throw new Error(`unsupported datatype ${datatype}`);
  const flat = data.flat(Infinity);
  return new ort.Tensor(type, datatype === 'INT64' ? BigInt64Array.from(flat, BigInt) : Array_.from(flat), shape);
}

function fromTensor(name, t) {
  const data = t.type === 'int64' ? Array.from(t.data, Number) : Array.from(t.data);
  return { name, datatype: DATATYPE[t.type], shape: t.dims, data };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Raw batched session.run, timed here: the peer's figure for the batch comparison. */
async function batch(session, request, rows, runs) {
  const feeds = {};
  for (const input of request.inputs) {
    const one = toTensor(input);
    const data = new one.data.constructor(one.data.length * rows);
    for (let r = 0; r < rows; r++) data.set(one.data, r * one.data.length);
    feeds[input.name] = new ort.Tensor(one.type, data, [one.dims[0] * rows, ...one.dims.slice(1)]);
  }
  const start = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds);
  return (performance.now() - start) / 1000;
}

export async function startPeer(models) {
  const sessions = new Map();
  for (const { name, path } of models) {
    sessions.set(
      name,
      await ort.InferenceSession.create(path, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      }),
    );
  }
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://peer');
      const [, v2, models_, name, action] = url.pathname.split('/');
      const session = sessions.get(name);
      if (v2 !== 'v2' || models_ !== 'models' || !session || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      const request = JSON.parse(await readBody(req));
      if (action === 'batch') {
        const rows = Number(url.searchParams.get('rows'));
        const runs = Number(url.searchParams.get('runs'));
        const seconds = await batch(session, request, rows, runs);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rows: rows * runs, seconds }));
        return;
      }
      const feeds = Object.fromEntries(request.inputs.map((i) => [i.name, toTensor(i)]));
      const results = await session.run(feeds);
      const outputs = session.outputNames.map((n) => fromTensor(n, results[n]));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ model_name: name, model_version: '1', outputs }));
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) }));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

if (process.send) {
  process.on('message', async ({ models }) => {
    const server = await startPeer(models);
    process.send({ port: server.address().port });
  });
}
