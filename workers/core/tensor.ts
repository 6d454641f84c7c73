/*
 * The one table that maps Open Inference Protocol datatype names to onnxruntime-web tensor
 * types and the typed arrays that hold them. Everything else asks this module.
 */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'UINT32',
  'INT32',
  'UINT64',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];

export type NumericArray =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
export type BigIntArray = BigInt64Array | BigUint64Array;
export type TensorData = NumericArray | BigIntArray | string[];

interface DatatypeInfo {
  ort: string;
  /** Typed array constructor; undefined for BYTES, held as string[]. */
  array?: { new (length: number): NumericArray | BigIntArray };
  kind: 'bool' | 'int' | 'bigint' | 'float' | 'half' | 'bytes';
  /** Inclusive range for integer kinds, to reject values that would wrap silently. */
  min?: number | bigint;
  max?: number | bigint;
}

export const DATATYPE_INFO: Record<Datatype, DatatypeInfo> = {
  BOOL: { ort: 'bool', array: Uint8Array, kind: 'bool' },
  UINT8: { ort: 'uint8', array: Uint8Array, kind: 'int', min: 0, max: 255 },
  INT8: { ort: 'int8', array: Int8Array, kind: 'int', min: -128, max: 127 },
  UINT16: { ort: 'uint16', array: Uint16Array, kind: 'int', min: 0, max: 65535 },
  INT16: { ort: 'int16', array: Int16Array, kind: 'int', min: -32768, max: 32767 },
  UINT32: { ort: 'uint32', array: Uint32Array, kind: 'int', min: 0, max: 4294967295 },
  INT32: { ort: 'int32', array: Int32Array, kind: 'int', min: -2147483648, max: 2147483647 },
  UINT64: { ort: 'uint64', array: BigUint64Array, kind: 'bigint', min: 0n, max: 18446744073709551615n },
  INT64: {
    ort: 'int64',
    array: BigInt64Array,
    kind: 'bigint',
    min: -9223372036854775808n,
    max: 9223372036854775807n,
  },
  FP16: { ort: 'float16', array: Uint16Array, kind: 'half' },
  FP32: { ort: 'float32', array: Float32Array, kind: 'float' },
  FP64: { ort: 'float64', array: Float64Array, kind: 'float' },
  BYTES: { ort: 'string', kind: 'bytes' },
};

const byOrtType = new Map<string, Datatype>(DATATYPES.map((d) => [DATATYPE_INFO[d].ort, d]));

export function datatypeFromOrt(ortType: string): Datatype | undefined {
  return byOrtType.get(ortType);
}

export function isDatatype(name: string): name is Datatype {
  return (DATATYPES as readonly string[]).includes(name);
}

/** A tensor as the platform passes it between the inference core and a runtime. */
export interface Tensor {
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}
