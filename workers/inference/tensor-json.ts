import { invalidInput } from '../core/errors';
import { DATATYPE_INFO, type Datatype, type Tensor, type TensorData } from '../core/tensor';
import { fromHalfBits, toHalfBits } from './half';

/*
 * JSON <-> tensor data, per the platform's contract: values a JSON number cannot carry travel as
 * strings both ways — INT64/UINT64 beyond ±(2^53 − 1) as decimal strings, and non-finite floats
 * as "NaN", "Infinity", "-Infinity".
 */

const FP32_MAX = 3.4028234663852886e38;
const FP16_MAX = 65504;
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const DECIMAL = /^-?\d{1,20}$/;
const Float16 = (globalThis as { Float16Array?: new (n: number) => NumericArrayLike }).Float16Array;

interface NumericArrayLike {
  [i: number]: number;
  readonly length: number;
}

/** Flattens row-major data; nested data must have exactly the declared shape. */
export function flattenData(data: unknown, shape: readonly number[], where: string): unknown[] {
  if (!Array.isArray(data)) throw invalidInput(`${where}: 'data' must be an array`);
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (value: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      if (Array.isArray(value))
        throw invalidInput(`${where}: data${path} is nested deeper than the shape ${fmt(shape)}`);
      out.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      throw invalidInput(
        `${where}: nested data does not match the shape ${fmt(shape)}: data${path} should be an array of ${shape[depth]}`,
      );
    }
    value.forEach((v, i) => walk(v, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return out;
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function elementError(where: string, index: number, datatype: Datatype, value: unknown, expected: string) {
  const shown =
    typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : (JSON.stringify(value) ?? String(value));
  return invalidInput(`${where}: element ${index} is ${shown}; ${datatype} expects ${expected}`);
}

function readFloat(value: unknown, max: number, where: string, i: number, datatype: Datatype): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || Math.abs(value) > max) {
      throw elementError(
        where,
        i,
        datatype,
        value,
        `a finite number within ±${max} (send "NaN", "Infinity" or "-Infinity" as strings)`,
      );
    }
    return value;
  }
  if (typeof value === 'string' && value in NON_FINITE) return NON_FINITE[value]!;
  throw elementError(where, i, datatype, value, 'a number, or "NaN", "Infinity", "-Infinity" as strings');
}

/** Decodes flat JSON elements into the typed array the runtime takes. */
export function decodeElements(values: unknown[], datatype: Datatype, where: string): TensorData {
  const info = DATATYPE_INFO[datatype];
  const n = values.length;
  switch (info.kind) {
    case 'bytes': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') throw elementError(where, i, datatype, v, 'a string');
        if (v.includes('\0')) {
          throw elementError(
            where,
            i,
            datatype,
            v,
            'strings without NUL characters (onnxruntime-web cuts strings at NUL)',
          );
        }
        out[i] = v;
      }
      return out;
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') throw elementError(where, i, datatype, v, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'float': {
      const out = datatype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
      const max = datatype === 'FP32' ? FP32_MAX : Number.MAX_VALUE;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        out[i] = typeof v === 'number' && Math.abs(v) <= max ? v : readFloat(v, max, where, i, datatype);
      }
      return out;
    }
    case 'half': {
      const out = Float16 ? new Float16(n) : new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = readFloat(values[i], FP16_MAX, where, i, datatype);
        out[i] = Float16 ? v : toHalfBits(v);
      }
      return out as unknown as TensorData;
    }
    case 'int': {
      const out = new info.array!(n) as Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;
      const min = info.min as number;
      const max = info.max as number;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
          throw elementError(where, i, datatype, v, `an integer from ${min} to ${max}`);
        }
        out[i] = v;
      }
      return out;
    }
    case 'bigint': {
      const out = new info.array!(n) as BigInt64Array | BigUint64Array;
      const min = info.min as bigint;
      const max = info.max as bigint;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        let big: bigint;
        if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
        else if (typeof v === 'string' && DECIMAL.test(v)) big = BigInt(v);
        else {
          throw elementError(
            where,
            i,
            datatype,
            v,
            'an integer; beyond ±(2^53 − 1) send it as a decimal string so no precision is lost',
          );
        }
        if (big < min || big > max) throw elementError(where, i, datatype, v, `an integer from ${min} to ${max}`);
        out[i] = big;
      }
      return out;
    }
  }
}

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
