/*
 * A second, independent Open Inference Protocol V2 server for the tests, as a team's own
 * Triton or KServe would be: onnxruntime-node behind plain node:http, JSON tensors only, a
 * bearer credential of its own. It can be told to fail as real servers do (slow, 500,
 * malformed JSON, down), and it records the credentials it was sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import ort from 'onnxruntime-node';

export type Fault = 'none' | 'slow' | 'error' | 'malformed';

const TYPES: Record<string, string> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  int8: 'INT8',
  uint16: 'UINT16',
  int16: 'INT16',
  uint32: 'UINT32',
  int32: 'INT32',
  uint64: 'UINT64',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};
const ORT_TYPES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function fromJson(input: { datatype: string; shape: number[]; data: unknown[] }): ort.Tensor {
  const flat = (input.data as unknown[]).flat(Infinity);
  const type = ORT_TYPES[input.datatype]!;
  const num = (v: unknown) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v]! : Number(v));
  let data: ort.Tensor['data'];
  if (type === 'string') data = flat.map(String);
  else if (type === 'int64') data = BigInt64Array.from(flat, (v) => BigInt(v as string));
  else if (type === 'uint64') data = BigUint64Array.from(flat, (v) => BigInt(v as string));
  else if (type === 'bool') data = Uint8Array.from(flat, (v) => (v ? 1 : 0));
  else {
    const arrays: Record<string, { from(a: unknown[], f: (v: unknown) => number): ort.Tensor['data'] }> = {
      float32: Float32Array,
      float64: Float64Array,
      int32: Int32Array,
      int16: Int16Array,
      int8: Int8Array,
      uint8: Uint8Array,
      uint16: Uint16Array,
      uint32: Uint32Array,
    };
    data = arrays[type]!.from(flat, num);
  }
  return new ort.Tensor(type as 'float32', data as Float32Array, input.shape);
}

function toJson(tensor: ort.Tensor): unknown[] {
  const out = Array.from(tensor.data as ArrayLike<unknown>);
  return out.map((v) =>
    typeof v === 'bigint'
      ? Number(v)
      : typeof v === 'number' && !Number.isFinite(v)
        ? String(v)
        : tensor.type === 'bool'
          ? Boolean(v)
          : v,
  );
}

export interface OipServer {
  url: string;
  /** The Authorization headers of every request, in order. */
  credentials: string[];
  fault: Fault;
  /** How long a `slow` answer waits. */
  slowMs: number;
  /** Stops answering: the port refuses connections until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** Serves `models` (name -> ONNX bytes) at version "1"; requests need `Authorization: Bearer <token>`. */
export async function startOipServer(models: Record<string, Uint8Array>, token: string): Promise<OipServer> {
  const sessions = new Map<string, ort.InferenceSession>();
  for (const [name, bytes] of Object.entries(models)) sessions.set(name, await ort.InferenceSession.create(bytes));
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const state: OipServer = {
    url: '',
    credentials: [],
    fault: 'none',
    slowMs: 3000,
    down: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
    up: () => listen(),
    stop: () => state.down(),
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    state.credentials.push(req.headers.authorization ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '').replace(/\/+$/, '');
    if (state.fault === 'slow') await new Promise((r) => setTimeout(r, state.slowMs));
    if (state.fault === 'error') return send(res, 500, { error: 'the GPU fell off the bus' });
    if (state.fault === 'malformed') return send(res, 200, '{"model_name": "x", "outputs": [');
    if (path === '/v2') return send(res, 200, { name: 'test-oip', version: '1', extensions: [] });
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'bad credential' });
    const match = /^\/v2\/models\/([^/]+)(?:\/versions\/1)?(\/ready|\/infer)?$/.exec(path);
    const session = match ? sessions.get(decodeURIComponent(match[1]!)) : undefined;
    if (!match || !session) return send(res, 404, { error: `no model at ${path}` });
    const name = decodeURIComponent(match[1]!);
    if (match[2] === undefined) {
      const spec = (m: ort.InferenceSession.ValueMetadata) => ({
        name: m.name,
        datatype: m.isTensor ? TYPES[m.type] : 'BYTES',
        shape: m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d >= 0 && d < 2 ** 32 - 1 ? d : -1)) : [],
      });
      return send(res, 200, {
        name,
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: session.inputMetadata.map(spec),
        outputs: session.outputMetadata.map(spec),
      });
    }
    if (match[2] === '/ready') return send(res, 200, { name, ready: true });
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of request.inputs) feeds[input.name] = fromJson(input);
    const wanted: string[] = (request.outputs ?? session.outputMetadata).map((o: { name: string }) => o.name);
    try {
      const results = await session.run(feeds, wanted);
      return send(res, 200, {
        model_name: name,
        model_version: '1',
        outputs: wanted.map((n) => ({
          name: n,
          datatype: TYPES[results[n]!.type],
          shape: [...results[n]!.dims],
          data: toJson(results[n]!),
        })),
      });
    } catch (err) {
      return send(res, 400, { error: String(err) });
    }
  }

  function listen(): Promise<void> {
    server = createServer((req, res) => void handle(req, res).catch((err) => send(res, 500, { error: String(err) })));
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    return new Promise((done) =>
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        port = typeof address === 'object' && address ? address.port : 0;
        state.url = `http://127.0.0.1:${port}`;
        done();
      }),
    );
  }
  await listen();
  return state;
}
