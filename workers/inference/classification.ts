import { invalidInput } from '../core/errors';
import type { TensorSpec } from '../core/signature';
import type { Tensor } from '../core/tensor';
import { fromHalfBits } from './half';

/*
 * The classification extension, as Triton answers it: an output asked for with
 * `parameters.classification: K` comes back as BYTES, the K highest values of each batch row,
 * highest first, each as "value:index" or "value:index:label". Values are written as C++'s
 * std::to_string writes them: integers in decimal, floats with six decimals ("0.999960"). A
 * model's class labels name the indexes of an output with one value per class.
 */

/** Triton's own bound: ranking a row costs memory and time in its length. */
export const MAX_CLASSIFICATION_ELEMENTS = 1_000_000;

const TEN_POW_6 = 1_000_000n;
const bits = new DataView(new ArrayBuffer(8));

/**
 * `printf("%f", x)`: six decimals, rounded to nearest with ties to even on the exact binary
 * value, the sign kept (also for -0 and what rounds to 0), "inf" and "nan" as glibc writes them.
 */
export function formatFixed6(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  bits.setFloat64(0, x);
  const negative = bits.getUint8(0) >= 0x80;
  const sign = negative ? '-' : '';
  if (!Number.isFinite(x)) return `${sign}inf`;
  const exponent = (bits.getUint16(0) >> 4) & 0x7ff;
  let mantissa = bits.getBigUint64(0) & 0xfffffffffffffn;
  if (exponent !== 0) mantissa |= 1n << 52n;
  // |x| = mantissa * 2^shift exactly.
  const shift = (exponent === 0 ? 1 : exponent) - 1075;
  let scaled: bigint;
  if (shift >= 0) scaled = (mantissa * TEN_POW_6) << BigInt(shift);
  else {
    const numerator = mantissa * TEN_POW_6;
    const denominator = 1n << BigInt(-shift);
    scaled = numerator / denominator;
    const twice = (numerator % denominator) * 2n;
    if (twice > denominator || (twice === denominator && (scaled & 1n) === 1n)) scaled += 1n;
  }
  const digits = scaled.toString().padStart(7, '0');
  return `${sign}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

/** How one element is written and compared. */
function readerOf(tensor: Tensor): { value: (i: number) => number | bigint; text: (v: number | bigint) => string } {
  const { data, datatype } = tensor;
  switch (datatype) {
    case 'FP32':
    case 'FP64':
      return { value: (i) => (data as Float64Array)[i]!, text: (v) => formatFixed6(v as number) };
    case 'FP16':
      // Without Float16Array the runtime's FP16 data are the half bits.
      return data instanceof Uint16Array
        ? { value: (i) => fromHalfBits((data as Uint16Array)[i]!), text: (v) => formatFixed6(v as number) }
        : { value: (i) => (data as Float32Array)[i]!, text: (v) => formatFixed6(v as number) };
    default:
      return { value: (i) => (data as Int32Array | BigInt64Array)[i]!, text: (v) => v.toString() };
  }
}

/** Highest first; NaN after every number; equal values in index order. */
function byValue(value: (i: number) => number | bigint) {
  return (a: number, b: number): number => {
    const va = value(a);
    const vb = value(b);
    const nanA = va !== va;
    const nanB = vb !== vb;
    if (nanA || nanB) return nanA === nanB ? a - b : nanA ? 1 : -1;
    return va > vb ? -1 : va < vb ? 1 : a - b;
  };
}

/**
 * The output as classes: `spec` is the output's signature (its first dimension, when dynamic, is
 * the batch); `labels` name the classes of an output with as many values per row as labels.
 */
export function classify(
  name: string,
  tensor: Tensor,
  spec: TensorSpec,
  count: number,
  labels: readonly string[] | null,
): Tensor {
  const batched = spec.shape[0] === -1 && tensor.shape.length > 0;
  const rows = batched ? tensor.shape[0]! : 1;
  const perRow = (batched ? tensor.shape.slice(1) : tensor.shape).reduce((a, b) => a * b, 1);
  if (perRow > MAX_CLASSIFICATION_ELEMENTS) {
    throw invalidInput(
      `output '${name}' has ${perRow} values per row; classification ranks at most ${MAX_CLASSIFICATION_ELEMENTS}`,
    );
  }
  const k = Math.min(count, perRow);
  const named = labels && labels.length === perRow ? labels : null;
  const { value, text } = readerOf(tensor);
  const out: string[] = [];
  for (let row = 0; row < rows; row++) {
    const base = row * perRow;
    const order = Array.from({ length: perRow }, (_, i) => base + i).sort(byValue(value));
    for (let j = 0; j < k; j++) {
      const at = order[j]!;
      const index = at - base;
      out.push(`${text(value(at))}:${index}${named ? `:${named[index]}` : ''}`);
    }
  }
  return { datatype: 'BYTES', shape: batched ? [rows, k] : [k], data: out };
}
