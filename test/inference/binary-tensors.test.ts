import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson, fixture, newModel } from '../helpers';
import {
  concat,
  kserveRequest,
  npBytes,
  rapidJson,
  readAnswer,
  serializeByteTensor,
  tritonRequest,
  type WireInput,
  type WireRequest,
} from './triton-wire';

/*
 * The binary tensor data extension, with requests written byte for byte as tritonclient.http
 * writes them (triton-wire.ts) and answers read as it reads them. The identity model has one
 * input and one output per datatype: what goes in must come out unchanged, whichever way each
 * travels.
 */
const VALUES: Record<string, unknown[]> = {
  BOOL: [true, false, true],
  UINT8: [0, 7, 255],
  INT8: [-128, 0, 127],
  UINT16: [0, 1000, 65535],
  INT16: [-32768, -1, 32767],
  UINT32: [0, 123456, 4294967295],
  INT32: [-2147483648, 0, 2147483647],
  UINT64: ['0', '9007199254740993', '18446744073709551615'],
  INT64: ['-9223372036854775808', '9007199254740991', '9223372036854775807'],
  FP16: [1.5, -2, Infinity],
  FP32: [0.5, NaN, -Infinity],
  FP64: [1e300, Infinity, -0.1],
  BYTES: ['', 'héllo', 'a longer string, with punctuation: {"json": true}'],
};
const TYPES = Object.keys(VALUES);
const lower = (t: string) => t.toLowerCase();

/** Values as JSON carries them (the platform's contract: strings for what a number cannot hold). */
const asJson = (v: unknown) =>
  typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v;
/** One comparable form for values read from JSON or from bytes. */
const norm = (values: unknown[]) =>
  values.map((v) => (typeof v === 'bigint' ? v.toString() : typeof v === 'number' ? asJson(v) : v)).map(String);

function inputs(binary: (type: string) => boolean, values = VALUES): WireInput[] {
  return TYPES.map((t) => ({
    name: `in_${lower(t)}`,
    datatype: t,
    shape: [values[t]!.length],
    values: binary(t) ? values[t]! : values[t]!.map(asJson),
    binary: binary(t),
  }));
}

/** A 200, or the error body in the failure message (a binary answer is not read as text). */
async function expectOk(res: Response, what = '') {
  if (res.status !== 200) expect.fail(`${what} ${res.status}: ${await res.text()}`);
}

async function send(path: string, request: WireRequest, extraHeaders: Record<string, string> = {}) {
  const { body, headers } = await tritonRequest(request);
  return call('POST', path, { body, headers: { ...headers, ...extraHeaders } });
}

describe('binary tensor data', () => {
  let ident: string;
  let path: string;
  beforeAll(async () => {
    ident = await newModel(fixture('generated/identity.onnx'), 'ident-bin');
    path = `/v2/models/${ident}/infer`;
  });

  it('server metadata lists the extensions served', async () => {
    const meta = await callJson('GET', '/v2', 200, { token: null });
    expect(meta.extensions).toEqual(['binary_tensor_data', 'classification']);
  });

  it('takes every datatype as bytes and answers every output as bytes (tritonclient defaults)', async () => {
    const res = await send(path, { inputs: inputs(() => true) });
    await expectOk(res);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const { json, outputs } = await readAnswer(res);
    expect(json.model_name).toBe(ident);
    for (const [i, t] of TYPES.entries()) {
      expect(outputs[i]).toMatchObject({ name: `out_${lower(t)}`, datatype: t, shape: [3], binary: true });
      expect(json.outputs[i].data).toBeUndefined();
      expect(norm(outputs[i]!.values), t).toEqual(norm(VALUES[t]!));
    }
  });

  it('bytes in, JSON out; JSON in, bytes out: the same values', async () => {
    const jsonOut = TYPES.map((t) => ({ name: `out_${lower(t)}`, binary: false }));
    const a = await send(path, { inputs: inputs(() => true), outputs: jsonOut });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('application/json');
    expect(a.headers.get('inference-header-content-length')).toBeNull();
    const b = await send(path, { inputs: inputs(() => false) });
    await expectOk(b);
    const [readA, readB] = [await readAnswer(a), await readAnswer(b)];
    for (const [i, t] of TYPES.entries()) {
      expect(readA.outputs[i]!.binary).toBe(false);
      expect(readB.outputs[i]!.binary).toBe(true);
      expect(norm(readA.outputs[i]!.values), t).toEqual(norm(VALUES[t]!));
      expect(norm(readB.outputs[i]!.values), t).toEqual(norm(VALUES[t]!));
    }
  });

  it('mixes binary and JSON inputs and outputs, binary sections in output order', async () => {
    const binaryIn = new Set(['FP32', 'BYTES', 'INT64', 'BOOL']);
    const outputs = [...TYPES].reverse().map((t, i) => ({ name: `out_${lower(t)}`, binary: i % 2 === 0 }));
    const res = await send(path, { inputs: inputs((t) => binaryIn.has(t)), outputs, requestId: 'mixed-1' });
    await expectOk(res);
    const { json, outputs: read } = await readAnswer(res);
    expect(json.id).toBe('mixed-1');
    expect(read.map((o) => [o.name, o.binary])).toEqual(outputs.map((o) => [o.name, o.binary]));
    for (const o of read) expect(norm(o.values), o.name).toEqual(norm(VALUES[o.datatype]!));
  });

  it('reads a JSON body without a Content-Type as JSON (tritonclient sends none)', async () => {
    const res = await send(path, {
      inputs: inputs(() => false),
      outputs: TYPES.map((t) => ({ name: `out_${lower(t)}`, binary: false })),
    });
    await expectOk(res);
    const body = await res.json<any>();
    expect(body.outputs[TYPES.indexOf('BYTES')].data).toEqual(VALUES.BYTES);
  });

  it("takes KServe's Python client requests: octet-stream with a UTF-8 header, JSON without a Content-Type", async () => {
    // A non-ASCII id: the header's length is in bytes, not characters.
    const id = 'kserve-é-✓';
    const outputs = [
      { name: 'out_bytes', parameters: { binary_data: true } },
      { name: 'out_fp32', parameters: { binary_data: false } },
    ];
    const binary = kserveRequest(
      ident,
      id,
      inputs((t) => t !== 'UINT16'),
      outputs,
    );
    const res = await call('POST', path, binary);
    await expectOk(res);
    const read = await readAnswer(res);
    expect(read.json.id).toBe(id);
    expect(read.outputs.map((o) => [o.name, o.binary])).toEqual([
      ['out_bytes', true],
      ['out_fp32', false],
    ]);
    expect(read.outputs[0]!.values).toEqual(VALUES.BYTES);
    const json = kserveRequest(
      ident,
      id,
      inputs(() => false),
    );
    expect(json.headers).toEqual({});
    const plain = await call('POST', path, json);
    await expectOk(plain);
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect((await plain.json<any>()).outputs[TYPES.indexOf('BYTES')].data).toEqual(VALUES.BYTES);
  });

  it("reads a body labelled as curl's -d labels it (a form) by the protocol", async () => {
    const { body, headers } = await tritonRequest({ inputs: inputs(() => true) });
    const res = await call('POST', path, {
      body,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    await expectOk(res);
    const json = await call('POST', path, {
      body: JSON.stringify({
        inputs: inputs(() => false).map(({ name, datatype, shape, values }) => ({
          name,
          datatype,
          shape,
          data: values,
        })),
      }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await expectOk(json);
    expect((await json.json<any>()).outputs[TYPES.indexOf('BYTES')].data).toEqual(VALUES.BYTES);
  });

  it('reads gzip and deflate bodies, binary or JSON', async () => {
    for (const compression of ['gzip', 'deflate'] as const) {
      const res = await send(path, { inputs: inputs((t) => t !== 'INT8'), compression });
      await expectOk(res, compression);
      const { outputs } = await readAnswer(res);
      expect(norm(outputs[TYPES.indexOf('FP64')]!.values)).toEqual(norm(VALUES.FP64!));
    }
  });

  const one = (type: string, values: unknown[], binary = true): WireInput => ({
    name: `in_${lower(type)}`,
    datatype: type,
    shape: [values.length],
    values,
    binary,
  });

  /** A body with a hand-made tail: `inputs` with the given binary sizes, then `tail`. */
  function handMade(header: object, tail: Uint8Array, length?: number) {
    const text = rapidJson(header);
    return call('POST', path, {
      body: concat(new TextEncoder().encode(text), tail),
      headers: { 'Inference-Header-Content-Length': String(length ?? text.length) },
    });
  }

  async function refused(res: Response, status: number, pattern: RegExp) {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(res.headers.get('inference-header-content-length')).toBeNull();
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(text).error).toMatch(pattern);
  }

  const fp32 = (n: number) =>
    npBytes(
      'FP32',
      Array.from({ length: n }, (_, i) => i),
    );
  const input = (name: string, datatype: string, shape: number[], parameters: object) => ({
    name,
    datatype,
    shape,
    parameters,
  });

  it('refuses a binary section shorter than its binary_data_size (truncated body)', async () => {
    await refused(
      await handMade({ inputs: [input('in_fp32', 'FP32', [3], { binary_data_size: 12 })] }, fp32(2)),
      400,
      /input 'in_fp32': its 12 bytes of binary data \(from byte 0 after the JSON header\) run past the end of the body; 8 bytes follow/,
    );
  });

  it('refuses bytes beyond what the inputs declare (oversized section)', async () => {
    await refused(
      await handMade({ inputs: [input('in_fp32', 'FP32', [2], { binary_data_size: 8 })] }, fp32(3)),
      400,
      /12 bytes follow the JSON header but the inputs' binary_data_size add up to 8/,
    );
  });

  it('refuses a binary_data_size that does not fit the shape, naming the input', async () => {
    await refused(
      await handMade({ inputs: [input('in_fp32', 'FP32', [3], { binary_data_size: 8 })] }, fp32(2)),
      400,
      /input 'in_fp32' has 8 bytes of binary data but its shape \[3\] of FP32 needs 12 \(4 bytes per element\)/,
    );
  });

  it('refuses a header length past the end of the body, or not a number', async () => {
    const header = { inputs: [input('in_fp32', 'FP32', [1], { binary_data_size: 4 })] };
    await refused(
      await handMade(header, fp32(1), 5000),
      400,
      /Inference-Header-Content-Length is 5000 but the body has only \d+ bytes/,
    );
    await refused(await handMade(header, fp32(1), -1), 400, /must be the JSON header's length in bytes, not '-1'/);
    await refused(
      await handMade(header, fp32(1), 0),
      400,
      /0 \(raw tensor bytes without a JSON header\) is not served/,
    );
  });

  it('refuses a header length that cuts the JSON short', async () => {
    const header = { inputs: [input('in_fp32', 'FP32', [1], { binary_data_size: 4 })] };
    const text = rapidJson(header);
    await refused(await handMade(header, fp32(1), text.length - 3), 400, /JSON/);
  });

  it('refuses an input with both data and binary_data_size, or neither, or bytes without the header', async () => {
    await refused(
      await handMade({ inputs: [{ ...input('in_fp32', 'FP32', [1], { binary_data_size: 4 }), data: [1] }] }, fp32(1)),
      400,
      /input 'in_fp32' has both 'data' and parameters.binary_data_size/,
    );
    await refused(
      await call('POST', path, { body: { inputs: [input('in_fp32', 'FP32', [1], {})] } }),
      400,
      /input 'in_fp32' has no data: give 'data', or parameters.binary_data_size/,
    );
    await refused(
      await call('POST', path, { body: { inputs: [input('in_fp32', 'FP32', [1], { binary_data_size: 4 })] } }),
      400,
      /input 'in_fp32' has parameters.binary_data_size but the request has no Inference-Header-Content-Length header/,
    );
    await refused(
      await handMade({ inputs: [input('in_fp32', 'FP32', [1], { binary_data_size: 'four' })] }, fp32(1)),
      400,
      /input 'in_fp32': parameters.binary_data_size must be a whole number of bytes, not "four"/,
    );
    await refused(
      await handMade(
        { inputs: [input('in_fp32', 'FP32', [1], { shared_memory_region: 'r', shared_memory_byte_size: 4 })] },
        new Uint8Array(0),
      ),
      400,
      /input 'in_fp32': shared memory is not served/,
    );
  });

  const elementRefusals: [string, string, Uint8Array, number[], RegExp][] = [
    ['a BOOL byte other than 0 or 1', 'BOOL', Uint8Array.of(1, 2), [2], /element 1 is byte 2; BOOL expects 0 or 1/],
    [
      'a BYTES element cut short',
      'BYTES',
      concat(serializeByteTensor([new TextEncoder().encode('ab')]), Uint8Array.of(9, 0, 0, 0, 65)),
      [2],
      /element 1 declares 9 bytes but only 1 remain/,
    ],
    ['a BYTES length prefix cut short', 'BYTES', Uint8Array.of(1, 0), [1], /ends after 0 of the 1 BYTES elements/],
    [
      'BYTES beyond the shape',
      'BYTES',
      serializeByteTensor([Uint8Array.of(65), Uint8Array.of(66)]),
      [1],
      /holds 5 bytes after the 1 BYTES elements/,
    ],
    [
      'BYTES that are not UTF-8',
      'BYTES',
      serializeByteTensor([Uint8Array.of(0xff, 0xfe)]),
      [1],
      /element 0 is not valid UTF-8/,
    ],
    [
      'BYTES with a NUL',
      'BYTES',
      serializeByteTensor([Uint8Array.of(65, 0, 66)]),
      [1],
      /element 0 contains a NUL byte/,
    ],
  ];
  for (const [what, datatype, bytes, shape, message] of elementRefusals) {
    it(`refuses ${what}, naming the input`, async () => {
      const name = `in_${lower(datatype)}`;
      await refused(
        await handMade({ inputs: [input(name, datatype, shape, { binary_data_size: bytes.byteLength })] }, bytes),
        400,
        new RegExp(`input '${name}'.*${message.source}`),
      );
    });
  }

  it('answers the same signature errors as a JSON request', async () => {
    const all = inputs(() => true);
    const wrongType = await send(path, {
      inputs: all.map((i) => (i.name === 'in_int32' ? { ...i, datatype: 'INT16' } : i)),
    });
    await refused(wrongType, 400, /input 'in_int32' has datatype INT16 but the model expects INT32/);
    const missing = await send(path, { inputs: all.filter((i) => i.name !== 'in_fp64') });
    await refused(missing, 400, /missing input in_fp64 \(FP64 \[-1\]\)/);
    const unknown = await send(path, {
      inputs: [...all, one('FP32', [1])].map((i, k) => (k === all.length ? { ...i, name: 'nope' } : i)),
    });
    await refused(unknown, 400, /unknown input 'nope'/);
    const badOutput = await send(path, { inputs: all, outputs: [{ name: 'out_nope' }] });
    await refused(badOutput, 400, /unknown output 'out_nope'/);
    const { body, headers } = await tritonRequest({ inputs: all });
    const noModel = await call('POST', '/v2/models/no-such-model/infer', { body, headers });
    await refused(noModel, 404, /no-such-model/);
    const anonymous = await call('POST', path, { body, headers, token: null });
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json<any>()).error).toBeTypeOf('string');
  });

  it('refuses malformed output parameters before running anything', async () => {
    const all = inputs(() => false);
    const body = (parameters: object) => ({
      inputs: all.map(({ name, datatype, shape, values }) => ({ name, datatype, shape, data: values })),
      outputs: [{ name: 'out_fp32', parameters }],
    });
    await refused(
      await call('POST', path, { body: body({ binary_data: 'yes' }) }),
      400,
      /output 'out_fp32': parameters.binary_data must be true or false, not "yes"/,
    );
    await refused(
      await call('POST', path, { body: body({ classification: -1 }) }),
      400,
      /output 'out_fp32': parameters.classification must be a whole number of classes, not -1/,
    );
    await refused(
      await call('POST', path, { body: { ...body({}), parameters: { binary_data_output: 1 } } }),
      400,
      /request: parameters.binary_data_output must be true or false, not 1/,
    );
    await refused(
      await call('POST', path, { body: body({ shared_memory_region: 'r' }) }),
      400,
      /output 'out_fp32': shared memory is not served/,
    );
  });

  it('applies the body limit to binary bodies, and to compressed ones once decompressed', async () => {
    const header = rapidJson({
      inputs: [input('in_uint8', 'UINT8', [9 * 2 ** 20], { binary_data_size: 9 * 2 ** 20 })],
    });
    const big = await call('POST', path, {
      body: concat(new TextEncoder().encode(header), new Uint8Array(9 * 2 ** 20)),
      headers: { 'Inference-Header-Content-Length': String(header.length) },
    });
    await refused(big, 413, /the request body is larger than the limit of 8 MiB/);
    // Without a Content-Length (a chunked body) the bytes are counted as they arrive.
    const chunked = (bytes: Uint8Array) => {
      let at = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= bytes.byteLength) return controller.close();
          controller.enqueue(bytes.slice(at, at + 65536));
          at += 65536;
        },
      });
    };
    const streamed = await call('POST', path, {
      body: chunked(concat(new TextEncoder().encode(header), new Uint8Array(9 * 2 ** 20))),
      headers: { 'Inference-Header-Content-Length': String(header.length) },
    });
    await refused(streamed, 413, /the request body is larger than the limit of 8 MiB/);
    const { body, headers } = await tritonRequest({ inputs: inputs(() => true) });
    await expectOk(await call('POST', path, { body: chunked(body), headers }));
    // A bomb: 16 MiB of zeros in about 16 KiB of gzip.
    const zeros = new Blob([new Uint8Array(16 * 2 ** 20)]).stream().pipeThrough(new CompressionStream('gzip'));
    const bomb = new Uint8Array(await new Response(zeros).arrayBuffer());
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    await refused(
      await call('POST', path, { body: bomb, headers: { 'Content-Encoding': 'gzip' } }),
      413,
      /the request body, decompressed, is larger than the limit of 8 MiB/,
    );
  });

  it('refuses a body that is not what its Content-Encoding says, and encodings it does not serve', async () => {
    await refused(
      await call('POST', path, {
        body: new TextEncoder().encode('{"inputs": []}'),
        headers: { 'Content-Encoding': 'gzip' },
      }),
      400,
      /the request body is not valid gzip data/,
    );
    await refused(
      await call('POST', path, { body: new TextEncoder().encode('{}'), headers: { 'Content-Encoding': 'br' } }),
      415,
      /Content-Encoding 'br' is not supported; send gzip, deflate or an uncompressed body/,
    );
    await refused(
      await call('POST', path, { body: new TextEncoder().encode('{}'), headers: { 'Content-Type': 'text/csv' } }),
      415,
      /an inference body is JSON .* not 'text\/csv'/,
    );
  });

  it('answers a cached prediction in the format each request asks for', async () => {
    const values: Record<string, unknown[]> = { ...VALUES, FP32: [Math.random(), 2, 3] };
    const binary = await send(path, { inputs: inputs(() => true, values) });
    expect(binary.headers.get('x-cache')).toBe('MISS');
    const first = new Uint8Array(await binary.arrayBuffer());
    const again = await send(path, { inputs: inputs(() => true, values) });
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(again.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(first);
    // The same inputs sent as JSON meet the same entry, answered as JSON...
    const json = await send(path, {
      inputs: inputs(() => false, values),
      outputs: TYPES.map((t) => ({ name: `out_${lower(t)}`, binary: false })),
    });
    expect(json.headers.get('x-cache')).toBe('HIT');
    const readJson = await readAnswer(json);
    // ...and some outputs binary, some not.
    const mixed = await send(path, {
      inputs: inputs(() => false, values),
      outputs: TYPES.map((t, i) => ({ name: `out_${lower(t)}`, binary: i % 3 === 0 })),
    });
    expect(mixed.headers.get('x-cache')).toBe('HIT');
    const readMixed = await readAnswer(mixed);
    for (const [i, t] of TYPES.entries()) {
      expect(readJson.outputs[i]!.binary).toBe(false);
      expect(readMixed.outputs[i]!.binary).toBe(i % 3 === 0);
      const expected = norm(values[t]!.map((v) => (t === 'FP32' ? Math.fround(v as number) : v)));
      expect(norm(readJson.outputs[i]!.values), t).toEqual(expected);
      expect(norm(readMixed.outputs[i]!.values), t).toEqual(expected);
    }
  });

  it('the instances API refuses binary tensor data', async () => {
    const res = await call('POST', `/v1/models/${ident}/predict`, {
      body: new TextEncoder().encode('{"instances":[1]}\u0001'),
      headers: { 'Inference-Header-Content-Length': '17' },
    });
    const body = await res.json<any>();
    expect(res.status).toBe(400);
    expect(body.error.message).toMatch(
      /binary tensor data \(Inference-Header-Content-Length\) is for the Open Inference Protocol's infer route/,
    );
  });
});
