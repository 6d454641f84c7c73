/*
 * Writes ONNX protobufs by hand, inside workerd. protobufjs cannot run here (it generates code,
 * which Workers forbid) and scripts/onnx/build.mjs only knows the fields of well-formed models;
 * hostile files need what a real builder would refuse: dims of 2^62 or -5, external-data
 * references, thousands of nested subgraphs, wire-level fields repeated or out of place.
 * Field numbers follow onnx/onnx.proto.
 */

/** Encoded protobuf bytes: one field, or a message's body. */
type Field = Uint8Array;

function varint(value: bigint | number): number[] {
  // int64 fields carry negative values as 10-byte two's complement varints.
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const encoder = new TextEncoder();

export const pb = {
  int: (field: number, value: bigint | number): Field => Uint8Array.from([...varint(field * 8), ...varint(value)]),
  bytes: (field: number, value: Uint8Array): Field =>
    concat([Uint8Array.from([...varint(field * 8 + 2), ...varint(value.length)]), value]),
  str: (field: number, value: string): Field => pb.bytes(field, encoder.encode(value)),
  msg: (field: number, ...fields: Field[]): Field => pb.bytes(field, concat(fields)),
  /** A message's body: its fields, without the tag and length that embed it. */
  body: (...fields: Field[]): Uint8Array => concat(fields),
  float: (field: number, value: number): Field => {
    const out = new Uint8Array(5);
    out[0] = field * 8 + 5;
    new DataView(out.buffer).setFloat32(1, value, true);
    return out;
  },
  concat,
};

export const ELEM = { FP32: 1, INT64: 7, BYTES: 8 } as const;

/** A dimension: a number or bigint (fixed, any int64 including negative) or a string (symbolic). */
export type Dim = number | bigint | string;

export function valueInfo(name: string, elemType: number, shape: Dim[]): Field {
  const dims = shape.map((d) => (typeof d === 'string' ? pb.msg(1, pb.str(2, d)) : pb.msg(1, pb.int(1, d))));
  return pb.body(pb.str(1, name), pb.msg(2, pb.msg(1, pb.int(1, elemType), pb.msg(2, ...dims))));
}

export interface TensorOptions {
  name: string;
  elemType: number;
  dims: (number | bigint)[];
  floats?: number[];
  raw?: Uint8Array;
  /** key/value pairs of TensorProto.external_data; sets data_location EXTERNAL. */
  external?: Record<string, string>;
}

export function tensor(t: TensorOptions): Field {
  const fields = [...t.dims.map((d) => pb.int(1, d)), pb.int(2, t.elemType), pb.str(8, t.name)];
  if (t.floats) fields.push(...t.floats.map((f) => pb.float(4, f)));
  if (t.raw) fields.push(pb.bytes(9, t.raw));
  if (t.external) {
    for (const [key, value] of Object.entries(t.external)) fields.push(pb.msg(13, pb.str(1, key), pb.str(2, value)));
    fields.push(pb.int(14, 1));
  }
  return pb.body(...fields);
}

export type Attr =
  | { name: string; i: number | bigint }
  | { name: string; ints: (number | bigint)[] }
  | { name: string; t: Field }
  | { name: string; g: Field };

function attribute(a: Attr): Field {
  const name = pb.str(1, a.name);
  if ('i' in a) return pb.msg(5, name, pb.int(3, a.i), pb.int(20, 2));
  if ('ints' in a) return pb.msg(5, name, ...a.ints.map((v) => pb.int(8, v)), pb.int(20, 7));
  if ('t' in a) return pb.msg(5, name, pb.bytes(5, a.t), pb.int(20, 4));
  return pb.msg(5, name, pb.bytes(6, a.g), pb.int(20, 5));
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: Attr[] = [], domain = ''): Field {
  return pb.body(
    ...inputs.map((i) => pb.str(1, i)),
    ...outputs.map((o) => pb.str(2, o)),
    pb.str(3, `${opType}_${outputs[0] ?? ''}`),
    pb.str(4, opType),
    ...attrs.map(attribute),
    ...(domain ? [pb.str(7, domain)] : []),
  );
}

export interface GraphOptions {
  nodes: Field[];
  inputs: Field[];
  outputs: Field[];
  initializers?: Field[];
  name?: string;
}

/** A GraphProto's body (for a model, or for a subgraph attribute). */
export function graph(g: GraphOptions): Uint8Array {
  return concat([
    ...g.nodes.map((n) => pb.bytes(1, n)),
    pb.str(2, g.name ?? 'graph'),
    ...(g.initializers ?? []).map((t) => pb.bytes(5, t)),
    ...g.inputs.map((v) => pb.bytes(11, v)),
    ...g.outputs.map((v) => pb.bytes(12, v)),
  ]);
}

export interface ModelOptions extends GraphOptions {
  irVersion?: number | bigint;
  opsets?: { domain: string; version: number | bigint }[];
}

export function model(m: ModelOptions): Uint8Array {
  const opsets = m.opsets ?? [{ domain: '', version: 17 }];
  return concat([
    pb.int(1, m.irVersion ?? 8),
    pb.str(2, 'modelflare-hostile'),
    pb.bytes(7, graph(m)),
    ...opsets.map((o) => pb.msg(8, ...(o.domain ? [pb.str(1, o.domain)] : []), pb.int(2, o.version))),
  ]);
}
