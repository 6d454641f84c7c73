import { DATATYPE_INFO, type Tensor } from '../core/tensor';
import { fromHalfBits } from './half';

/*
 * Tensor data out to JSON, per the platform's contract: values a JSON number cannot carry travel
 * as strings — INT64/UINT64 beyond ±(2^53 − 1) as decimal strings, and non-finite floats as
 * "NaN", "Infinity", "-Infinity". (The way in is tensor-decode.ts.)
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function floatJson(v: number): number | string {
  return Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** Encodes a runtime tensor's data as flat JSON values. */
export function encodeElements(tensor: Tensor): unknown[] {
  const { data, datatype } = tensor;
  const kind = DATATYPE_INFO[datatype].kind;
  const n = data.length;
  const out = new Array<unknown>(n);
  if (kind === 'bytes') return data as string[];
  if (kind === 'bool') {
    for (let i = 0; i < n; i++) out[i] = (data as Uint8Array)[i] !== 0;
  } else if (kind === 'bigint') {
    for (let i = 0; i < n; i++) {
      const v = (data as BigInt64Array)[i]!;
      out[i] = v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
    }
  } else if (kind === 'half' && data instanceof Uint16Array) {
    for (let i = 0; i < n; i++) out[i] = floatJson(fromHalfBits(data[i]!));
  } else if (kind === 'float' || kind === 'half') {
    const values = data as Float32Array;
    for (let i = 0; i < n; i++) out[i] = floatJson(values[i]!);
  } else {
    for (let i = 0; i < n; i++) out[i] = (data as Int32Array)[i];
  }
  return out;
}
