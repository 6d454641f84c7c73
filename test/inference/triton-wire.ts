import { toHalfBits, fromHalfBits } from '../../workers/inference/half';

/*
 * Requests as NVIDIA's tritonclient.http writes them, and answers read as it reads them, from
 * its source (src/python/library/tritonclient/http): `_utils._get_inference_request` builds the
 * JSON (id when given; `parameters.binary_data_output: true` when no output is named; inputs as
 * {name, shape, datatype, parameters, data}), rapidjson writes it compact with non-ASCII escaped,
 * and the binary inputs' bytes follow in input order. `InferInput.set_data_from_numpy` sends
 * numpy's bytes (little-endian) with `binary_data_size`, BYTES through
 * `utils.serialize_byte_tensor` (4-byte little-endian length, then the bytes), or JSON values.
 * `InferRequestedOutput` writes {name, parameters: {classification?, binary_data}}.
 * `InferenceServerClient.infer` sends no Content-Type, adds `Inference-Header-Content-Length`
 * only when binary data follows, and `Content-Encoding` with gzip.compress / zlib.compress
 * bodies. `InferResult` splits the answer at `Inference-Header-Content-Length` and takes each
 * output's `binary_data_size` bytes in output order.
 */

export interface WireInput {
  name: string;
  datatype: string;
  shape: number[];
  /** Flat, row-major; INT64/UINT64 as numbers or decimal strings. */
  values: unknown[];
  /** set_data_from_numpy(binary_data=...): tritonclient's default is true. */
  binary?: boolean;
}

export interface WireOutput {
  name: string;
  binary?: boolean;
  classCount?: number;
}

export interface WireRequest {
  inputs: WireInput[];
  outputs?: WireOutput[];
  requestId?: string;
  compression?: 'gzip' | 'deflate';
}

const encoder = new TextEncoder();

/** rapidjson.dumps: compact, every non-ASCII character escaped (ensure_ascii). */
export function rapidJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** numpy's `tobytes()` for one datatype, or serialize_byte_tensor for BYTES. */
export function npBytes(datatype: string, values: unknown[]): Uint8Array {
  const big = (v: unknown) => BigInt(v as string | number);
  const typed: Record<string, () => ArrayBufferView> = {
    BOOL: () => Uint8Array.from(values, (v) => (v ? 1 : 0)),
    UINT8: () => Uint8Array.from(values as number[]),
    INT8: () => Int8Array.from(values as number[]),
    UINT16: () => Uint16Array.from(values as number[]),
    INT16: () => Int16Array.from(values as number[]),
    UINT32: () => Uint32Array.from(values as number[]),
    INT32: () => Int32Array.from(values as number[]),
    UINT64: () => BigUint64Array.from(values, big),
    INT64: () => BigInt64Array.from(values, big),
    FP16: () => Uint16Array.from(values, (v) => toHalfBits(Number(v))),
    FP32: () => Float32Array.from(values, Number),
    FP64: () => Float64Array.from(values, Number),
  };
  if (datatype === 'BYTES')
    return serializeByteTensor(values.map((v) => (v instanceof Uint8Array ? v : encoder.encode(String(v)))));
  const view = typed[datatype]!();
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function serializeByteTensor(elements: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(elements.reduce((n, e) => n + 4 + e.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of elements) {
    view.setUint32(at, e.byteLength, true);
    out.set(e, at + 4);
    at += 4 + e.byteLength;
  }
  return out;
}

async function compress(bytes: Uint8Array, format: 'gzip' | 'deflate'): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

/** The body and headers tritonclient.http's InferenceServerClient.infer sends. */
export async function tritonRequest(
  request: WireRequest,
): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
  const json: Record<string, unknown> = {};
  const parameters: Record<string, unknown> = {};
  if (request.requestId) json.id = request.requestId;
  const raws: Uint8Array[] = [];
  json.inputs = request.inputs.map((input) => {
    const tensor: Record<string, unknown> = { name: input.name, shape: input.shape, datatype: input.datatype };
    if (input.binary ?? true) {
      const raw = npBytes(input.datatype, input.values);
      raws.push(raw);
      tensor.parameters = { binary_data_size: raw.byteLength };
    } else {
      tensor.data = input.values;
    }
    return tensor;
  });
  if (request.outputs && request.outputs.length > 0) {
    json.outputs = request.outputs.map((o) => {
      const p: Record<string, unknown> = {};
      if (o.classCount) p.classification = o.classCount;
      p.binary_data = o.binary ?? true;
      return { name: o.name, parameters: p };
    });
  } else {
    parameters.binary_data_output = true;
  }
  if (Object.keys(parameters).length > 0) json.parameters = parameters;
  const text = rapidJson(json);
  let body = concat(encoder.encode(text), ...raws);
  const headers: Record<string, string> = {};
  if (request.compression) {
    headers['Content-Encoding'] = request.compression;
    body = await compress(body, request.compression);
  }
  if (raws.length > 0) headers['Inference-Header-Content-Length'] = String(text.length);
  return { body, headers };
}

/**
 * The body and headers KServe's Python SDK sends (`InferRequest.to_rest` and
 * `InferenceRESTClient.infer`, kserve/protocol/infer_type.py and inference_client.py): orjson's
 * compact UTF-8 (nothing escaped), `id` and `model_name` beside the inputs, each output's
 * parameters as given; with binary inputs `content-type: application/octet-stream` and the
 * header's length in bytes, else the JSON alone with no Content-Type.
 */
export function kserveRequest(
  model: string,
  id: string,
  inputs: WireInput[],
  outputs?: { name: string; parameters: Record<string, unknown> }[],
): { body: Uint8Array; headers: Record<string, string> } {
  const raws: Uint8Array[] = [];
  const json: Record<string, unknown> = {
    id,
    model_name: model,
    inputs: inputs.map((input) => {
      const tensor: Record<string, unknown> = { name: input.name, shape: input.shape, datatype: input.datatype };
      if (input.binary) {
        const raw = npBytes(input.datatype, input.values);
        raws.push(raw);
        tensor.parameters = { binary_data_size: raw.byteLength };
      } else {
        tensor.data = input.values;
      }
      return tensor;
    }),
  };
  if (outputs) json.outputs = outputs;
  const header = encoder.encode(JSON.stringify(json));
  if (raws.length === 0) return { body: header, headers: {} };
  return {
    body: concat(header, ...raws),
    headers: {
      'inference-header-content-length': String(header.byteLength),
      'content-type': 'application/octet-stream',
    },
  };
}

export interface ReadOutput {
  name: string;
  datatype: string;
  shape: number[];
  /** Decoded values: numbers (bigint for 64-bit integers), booleans, or strings. */
  values: unknown[];
  binary: boolean;
}

/** numpy's frombuffer (or deserialize_bytes_tensor), as plain values. */
export function fromNpBytes(datatype: string, bytes: Uint8Array): unknown[] {
  const buf = bytes.slice().buffer;
  switch (datatype) {
    case 'BOOL':
      return [...new Uint8Array(buf)].map((b) => b !== 0);
    case 'UINT8':
      return [...new Uint8Array(buf)];
    case 'INT8':
      return [...new Int8Array(buf)];
    case 'UINT16':
      return [...new Uint16Array(buf)];
    case 'INT16':
      return [...new Int16Array(buf)];
    case 'UINT32':
      return [...new Uint32Array(buf)];
    case 'INT32':
      return [...new Int32Array(buf)];
    case 'UINT64':
      return [...new BigUint64Array(buf)];
    case 'INT64':
      return [...new BigInt64Array(buf)];
    case 'FP16':
      return [...new Uint16Array(buf)].map(fromHalfBits);
    case 'FP32':
      return [...new Float32Array(buf)];
    case 'FP64':
      return [...new Float64Array(buf)];
    case 'BYTES': {
      const out: string[] = [];
      const view = new DataView(buf);
      for (let at = 0; at < bytes.byteLength;) {
        const n = view.getUint32(at, true);
        out.push(new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + n)));
        at += 4 + n;
      }
      return out;
    }
  }
  throw new Error(`no datatype ${datatype}`);
}

/** InferResult: the JSON header and each output's values, binary or JSON. */
export async function readAnswer(res: Response): Promise<{ json: any; outputs: ReadOutput[] }> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const split = res.headers.get('inference-header-content-length');
  const headerLength = split === null ? bytes.byteLength : Number(split);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, headerLength)));
  let at = headerLength;
  const outputs = (json.outputs ?? []).map((o: any): ReadOutput => {
    const size = o.parameters?.binary_data_size;
    if (size === undefined)
      return { name: o.name, datatype: o.datatype, shape: o.shape, values: o.data, binary: false };
    const values = fromNpBytes(o.datatype, bytes.subarray(at, at + size));
    at += size;
    return { name: o.name, datatype: o.datatype, shape: o.shape, values, binary: true };
  });
  if (at !== bytes.byteLength) throw new Error(`${bytes.byteLength - at} bytes left after the outputs`);
  return { json, outputs };
}
