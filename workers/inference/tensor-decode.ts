import { invalidInput } from '../core/errors';
import { DATATYPE_INFO, type Datatype, type TensorData } from '../core/tensor';
import { toHalfBits } from './half';

/*
 * JSON tensor data into the typed array the runtime takes, in one pass: the nesting is checked
 * against the shape, every element against the datatype, and each value is written where it
 * belongs as it is read. Per the platform's contract, values a JSON number cannot carry arrive
 * as strings: INT64/UINT64 beyond ±(2^53 − 1) as decimal strings, non-finite floats as "NaN",
 * "Infinity", "-Infinity".
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

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** A typed array (string[] for BYTES) of `n` elements of `datatype`. */
export function allocate(datatype: Datatype, n: number): TensorData {
  const info = DATATYPE_INFO[datatype];
  if (info.kind === 'bytes') return new Array<string>(n);
  if (info.kind === 'half') return (Float16 ? new Float16(n) : new Uint16Array(n)) as unknown as TensorData;
  return new info.array!(n);
}

function elementError(where: string, index: number, datatype: Datatype, value: unknown, expected: string) {
  const shown =
    typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : (JSON.stringify(value) ?? String(value));
  return invalidInput(`${where}: element ${index} is ${shown}; ${datatype} expects ${expected}`);
}

type Put = (out: TensorData, at: number, value: unknown, index: number) => void;

function floatPut(datatype: Datatype, max: number, where: string, half: boolean): Put {
  const read = (value: unknown, index: number): number => {
    if (typeof value === 'number') {
      if (Number.isFinite(value) && Math.abs(value) <= max) return value;
      throw elementError(
        where,
        index,
        datatype,
        value,
        `a finite number within ±${max} (send "NaN", "Infinity" or "-Infinity" as strings)`,
      );
    }
    if (typeof value === 'string' && Object.hasOwn(NON_FINITE, value)) return NON_FINITE[value]!;
    throw elementError(where, index, datatype, value, 'a number, or "NaN", "Infinity", "-Infinity" as strings');
  };
  if (half && !Float16) return (out, at, value, i) => ((out as Uint16Array)[at] = toHalfBits(read(value, i)));
  return (out, at, value, i) => {
    (out as Float32Array)[at] = typeof value === 'number' && Math.abs(value) <= max ? value : read(value, i);
  };
}

/** How one element of `datatype` is checked and written. */
function putter(datatype: Datatype, where: string): Put {
  const info = DATATYPE_INFO[datatype];
  switch (info.kind) {
    case 'bytes':
      return (out, at, v, i) => {
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
        (out as string[])[at] = v;
      };
    case 'bool':
      return (out, at, v, i) => {
        if (typeof v !== 'boolean') throw elementError(where, i, datatype, v, 'true or false');
        (out as Uint8Array)[at] = v ? 1 : 0;
      };
    case 'float':
      return floatPut(datatype, datatype === 'FP32' ? FP32_MAX : Number.MAX_VALUE, where, false);
    case 'half':
      return floatPut(datatype, FP16_MAX, where, true);
    case 'int': {
      const min = info.min as number;
      const max = info.max as number;
      return (out, at, v, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
          throw elementError(where, i, datatype, v, `an integer from ${min} to ${max}`);
        }
        (out as Int32Array)[at] = v;
      };
    }
    case 'bigint': {
      const min = info.min as bigint;
      const max = info.max as bigint;
      return (out, at, v, i) => {
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
        (out as BigInt64Array)[at] = big;
      };
    }
  }
}

/** The fast loop for the common case: flat FP32 data of plain numbers. */
function putFlatFp32(out: Float32Array, offset: number, data: unknown[], put: Put): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v === 'number' && v <= FP32_MAX && v >= -FP32_MAX) out[offset + i] = v;
    else put(out, offset + i, v, i);
  }
}

/**
 * Writes `data` (flat, or nested exactly as `shape`) into `out` from `offset`. `where` names the
 * input in messages; element indexes are row-major within this tensor.
 */
export function decodeInto(
  out: TensorData,
  offset: number,
  data: unknown,
  shape: readonly number[],
  datatype: Datatype,
  where: string,
  count = shape.reduce((a, b) => a * b, 1),
): void {
  if (!Array.isArray(data)) throw invalidInput(`${where}: 'data' must be an array`);
  const put = putter(datatype, where);
  if (data.length === count && (count === 0 || !Array.isArray(data[0]))) {
    if (datatype === 'FP32') putFlatFp32(out as Float32Array, offset, data, put);
    else for (let i = 0; i < count; i++) put(out, offset + i, data[i], i);
    return;
  }
  if (!data.some(Array.isArray)) {
    throw invalidInput(`${where} has ${data.length} elements but its shape ${fmt(shape)} needs ${count}`);
  }
  decodeNested(out, offset, data, shape, where, put);
}

/** Nested data, walked depth first without recursion; every level must match the shape. */
function decodeNested(
  out: TensorData,
  offset: number,
  data: unknown[],
  shape: readonly number[],
  where: string,
  put: Put,
): void {
  const rank = shape.length;
  const stack: { array: unknown[]; next: number; path: string }[] = [];
  let written = 0;
  const enter = (value: unknown, depth: number, path: string) => {
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      throw invalidInput(
        `${where}: nested data does not match the shape ${fmt(shape)}: data${path} should be an array of ${shape[depth]}`,
      );
    }
    stack.push({ array: value, next: 0, path });
  };
  if (rank === 0) throw invalidInput(`${where}: data is nested deeper than the shape ${fmt(shape)}`);
  enter(data, 0, '');
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.array.length) {
      stack.pop();
      continue;
    }
    const index = top.next++;
    const value = top.array[index];
    const path = `${top.path}[${index}]`;
    if (stack.length === rank) {
      if (Array.isArray(value))
        throw invalidInput(`${where}: data${path} is nested deeper than the shape ${fmt(shape)}`);
      put(out, offset + written, value, written);
      written += 1;
    } else {
      enter(value, stack.length, path);
    }
  }
}

/** Output tensors back from their JSON form (a cached answer), to be written another way. */
export function tensorsFromJson(
  outputs: readonly { name: string; datatype: Datatype; shape: number[]; data: unknown[] }[],
) {
  const tensors: Record<string, { datatype: Datatype; shape: number[]; data: TensorData }> = {};
  for (const { name, datatype, shape, data } of outputs) {
    const count = shape.reduce((a, b) => a * b, 1);
    const out = allocate(datatype, count);
    decodeInto(out, 0, data, shape, datatype, `cached output '${name}'`, count);
    tensors[name] = { datatype, shape, data: out };
  }
  return tensors;
}
