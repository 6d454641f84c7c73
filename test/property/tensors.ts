import fc from 'fast-check';
import { DATATYPE_INFO, DATATYPES, type Datatype } from '../../workers/core/tensor';
import { fromHalfBits, toHalfBits } from '../../workers/inference/half';

/*
 * JSON tensor values per datatype as a client would send them, and the oracle that says what
 * the platform must answer for a value that passed through a model unchanged (the identity
 * model) or added (the add model). The oracle is written from the contract (docs/DESIGN: big
 * integers and non-finite floats as strings), not from the code under test.
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const NON_FINITE = ['NaN', 'Infinity', '-Infinity'] as const;

const f16round: (v: number) => number =
  (Math as { f16round?: (v: number) => number }).f16round ?? ((v) => fromHalfBits(toHalfBits(v)));

const bigJson = (v: bigint): number | string => (v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString());
const bigArb = (min: bigint, max: bigint) =>
  fc.tuple(fc.bigInt(min, max), fc.boolean()).map(([v, asString]) => (asString ? v.toString() : bigJson(v)));
// JSON.stringify writes -0 as 0, so that is what a client reads back.
const floatJson = (v: number): number | string =>
  Number.isFinite(v) ? (v === 0 ? 0 : v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';

/** Valid JSON elements of a datatype, including the string forms the contract allows. */
export function elementArb(datatype: Datatype): fc.Arbitrary<unknown> {
  const info = DATATYPE_INFO[datatype];
  switch (info.kind) {
    case 'bool':
      return fc.boolean();
    case 'int':
      return fc.integer({ min: info.min as number, max: info.max as number });
    case 'bigint':
      return bigArb(info.min as bigint, info.max as bigint);
    case 'half':
      return fc.oneof(
        fc.integer({ min: -2048, max: 2048 }).map((n) => n / 4),
        fc.double({ min: -65504, max: 65504, noNaN: true }),
        fc.constantFrom(...NON_FINITE),
      );
    case 'float':
      return (datatype === 'FP32' ? fc.float() : fc.double()).map(floatJson);
    case 'bytes':
      // NUL is refused by contract (onnxruntime-web cuts strings there); everything else is data.
      return fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'));
  }
}

const asNumber = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));

/**
 * What an identity model answers for one valid element, in the answer's JSON form; undefined
 * when the element is not a valid value of the datatype (then the platform must refuse).
 */
export function identityElement(datatype: Datatype, v: unknown): unknown {
  const info = DATATYPE_INFO[datatype];
  switch (info.kind) {
    case 'bool':
      return typeof v === 'boolean' ? v : undefined;
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= (info.min as number) && v <= (info.max as number)
        ? v
        : undefined;
    case 'bigint': {
      let big: bigint;
      if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
      else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) big = BigInt(v);
      else return undefined;
      return big >= (info.min as bigint) && big <= (info.max as bigint) ? bigJson(big) : undefined;
    }
    case 'half':
    case 'float': {
      const max = datatype === 'FP16' ? 65504 : datatype === 'FP32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
      if (typeof v === 'string' && (NON_FINITE as readonly string[]).includes(v)) return v;
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > max) return undefined;
      const r = datatype === 'FP16' ? f16round(v) : datatype === 'FP32' ? Math.fround(v) : v;
      return floatJson(r);
    }
    case 'bytes':
      return typeof v === 'string' && !v.includes('\0') ? v : undefined;
  }
}

/** FP32 addition as the add model computes it (float32 operands, float32 result). */
export function addFp32(a: unknown, b: unknown): unknown {
  const x = identityElement('FP32', a);
  const y = identityElement('FP32', b);
  if (x === undefined || y === undefined) return undefined;
  return floatJson(Math.fround(asNumber(x) + asNumber(y)));
}

/** Row-major flattening of (possibly nested) data. */
export const flat = (data: unknown): unknown[] => (Array.isArray(data) ? data.flat(Infinity) : [data]);

/** Nests flat data to a shape (row-major); the caller makes sure the counts agree. */
export function nest(values: unknown[], shape: number[]): unknown[] {
  if (shape.length <= 1) return values;
  const step = values.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
}

/** JSON values that look like numbers to a human but are not valid tensor elements. */
export const nearNumbers = fc.constantFrom(
  'nan',
  'NaN ',
  ' NaN',
  'inf',
  '+Infinity',
  '-NaN',
  'Infinity ',
  '1e400',
  '0x10',
  '1_000',
  '١٢٣',
  '',
  '-',
  '9'.repeat(21),
  '-9223372036854775809',
  '18446744073709551616',
  null,
  [],
  {},
  true,
  1e39,
  -1e39,
  1.5,
  2 ** 64,
);

export { DATATYPES };
