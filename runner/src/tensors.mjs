// @ts-check
/*
 * Open Inference Protocol tensors to and from onnxruntime-node: JSON data (flat or nested,
 * INT64 beyond 2^53 and non-finite floats as strings, per the platform's JSON contract) and the
 * binary tensor data extension (little-endian, row-major; BYTES as 4-byte length + bytes).
 */
import ort from 'onnxruntime-node';

/** @typedef {'BOOL'|'UINT8'|'INT8'|'UINT16'|'INT16'|'UINT32'|'INT32'|'UINT64'|'INT64'|'FP16'|'FP32'|'FP64'|'BYTES'} Datatype */

/** @type {Record<Datatype, { ort: string, array?: any }>} */
export const DATATYPES = {
  BOOL: { ort: 'bool', array: Uint8Array },
  UINT8: { ort: 'uint8', array: Uint8Array },
  INT8: { ort: 'int8', array: Int8Array },
  UINT16: { ort: 'uint16', array: Uint16Array },
  INT16: { ort: 'int16', array: Int16Array },
  UINT32: { ort: 'uint32', array: Uint32Array },
  INT32: { ort: 'int32', array: Int32Array },
  UINT64: { ort: 'uint64', array: BigUint64Array },
  INT64: { ort: 'int64', array: BigInt64Array },
  FP16: { ort: 'float16', array: Uint16Array },
  FP32: { ort: 'float32', array: Float32Array },
  FP64: { ort: 'float64', array: Float64Array },
  BYTES: { ort: 'string' },
};

const BY_ORT = new Map(Object.entries(DATATYPES).map(([name, info]) => [info.ort, /** @type {Datatype} */ (name)]));

/** @param {string} ortType */
export const datatypeOf = (ortType) => BY_ORT.get(ortType);

/** A request the client got wrong: answered 400 with the message. */
export class BadRequest extends Error {}

const NON_FINITE = /** @type {Record<string, number>} */ ({ NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity });
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** @param {number} bits */
function halfToFloat(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** @param {number} value */
function floatToHalf(value) {
  const f32 = new Float32Array([value]);
  const x = /** @type {number} */ (new Uint32Array(f32.buffer)[0]);
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) return exp < -10 ? sign : sign | ((mant | 0x800000) >> (14 - exp));
  return sign | (exp << 10) | (mant >> 13);
}

/** @param {unknown} v */
const toNumber = (v) =>
  typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : typeof v === 'boolean' ? Number(v) : Number(v);

/**
 * One input as an ORT tensor.
 * @param {{ name: string, datatype: string, shape: number[], data?: unknown }} input
 * @param {Uint8Array | undefined} binary
 */
export function toOrtTensor(input, binary) {
  const info = DATATYPES[/** @type {Datatype} */ (input.datatype)];
  if (!info) throw new BadRequest(`input '${input.name}': unknown datatype ${JSON.stringify(input.datatype)}`);
  if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new BadRequest(`input '${input.name}': shape must be an array of whole numbers`);
  }
  const count = input.shape.reduce((a, b) => a * b, 1);
  if (binary)
    return new ort.Tensor(
      /** @type {any} */ (info.ort),
      fromBinary(binary, input.datatype, count, input.name),
      input.shape,
    );
  if (!Array.isArray(input.data)) throw new BadRequest(`input '${input.name}' has no data`);
  const flat = input.data.flat(Infinity);
  if (flat.length !== count) {
    throw new BadRequest(
      `input '${input.name}' has ${flat.length} elements but its shape [${input.shape.join(', ')}] needs ${count}`,
    );
  }
  /** @type {any} */
  let data;
  if (input.datatype === 'BYTES') data = flat.map(String);
  else if (input.datatype === 'INT64' || input.datatype === 'UINT64')
    data = info.array.from(flat, (/** @type {any} */ v) => BigInt(v));
  else if (input.datatype === 'FP16')
    data = Uint16Array.from(flat, (v) => floatToHalf(/** @type {number} */ (toNumber(v))));
  else data = info.array.from(flat, toNumber);
  return new ort.Tensor(/** @type {any} */ (info.ort), data, input.shape);
}

/**
 * @param {Uint8Array} bytes
 * @param {string} datatype
 * @param {number} count
 * @param {string} name
 */
function fromBinary(bytes, datatype, count, name) {
  if (datatype === 'BYTES') {
    const out = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 4 > bytes.byteLength)
        throw new BadRequest(`input '${name}': binary data ends after ${i} of ${count} BYTES elements`);
      const length = view.getUint32(at, true);
      at += 4;
      if (at + length > bytes.byteLength)
        throw new BadRequest(`input '${name}': element ${i} runs past its binary data`);
      out.push(decoder.decode(bytes.subarray(at, at + length)));
      at += length;
    }
    return out;
  }
  const Array_ = DATATYPES[/** @type {Datatype} */ (datatype)].array;
  const size = Array_.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== count * size) {
    throw new BadRequest(
      `input '${name}' has ${bytes.byteLength} bytes of binary data but its shape needs ${count * size}`,
    );
  }
  // A copy: the body's buffer need not be aligned for the typed array.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Array_(copy.buffer);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** @param {number} v */
const floatJson = (v) => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');

/**
 * An ORT output as the protocol's JSON data.
 * @param {import('onnxruntime-node').Tensor} tensor
 * @param {Datatype} datatype
 * @returns {unknown[]}
 */
export function jsonData(tensor, datatype) {
  const data = /** @type {any} */ (tensor.data);
  if (datatype === 'BYTES') return Array.from(data);
  if (datatype === 'BOOL') return Array.from(data, (v) => Boolean(v));
  if (datatype === 'INT64' || datatype === 'UINT64') {
    return Array.from(data, (/** @type {bigint} */ v) => (v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString()));
  }
  if (datatype === 'FP16') return Array.from(data, (/** @type {number} */ v) => floatJson(halfToFloat(v)));
  if (datatype === 'FP32' || datatype === 'FP64') return Array.from(data, floatJson);
  return Array.from(data);
}

/**
 * An ORT output as binary tensor data.
 * @param {import('onnxruntime-node').Tensor} tensor
 * @param {Datatype} datatype
 */
export function binaryData(tensor, datatype) {
  const data = /** @type {any} */ (tensor.data);
  if (datatype !== 'BYTES') {
    if (datatype === 'BOOL' && !(data instanceof Uint8Array)) return Uint8Array.from(data, (v) => (v ? 1 : 0));
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const parts = Array.from(data, (s) => encoder.encode(String(s)));
  const out = new Uint8Array(parts.reduce((sum, p) => sum + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.byteLength, true);
    out.set(part, at + 4);
    at += 4 + part.byteLength;
  }
  return out;
}
