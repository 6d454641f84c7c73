import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { invalidModel } from '../../core/errors';
import {
  AttributeProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TypeProto,
} from './onnx-serving_pb';

/*
 * Reading and writing ONNX graphs for the import rewrites, with @bufbuild/protobuf (no code
 * generation at run time, which Workers forbid). The schema declares only the fields the
 * rewrites touch; every other field is kept as an unknown field and written back unchanged.
 */

export type { GraphProto, ModelProto, NodeProto, TypeProto };

/** ONNX TensorProto.DataType numbers the rewrites name. */
export const ElemType = { FLOAT: 1, INT64: 7, STRING: 8 } as const;

/** AttributeProto.AttributeType numbers. */
const AttrType = { INT: 2, INTS: 7 } as const;

/** The ai.onnx.ml domain; the default domain is written '' or 'ai.onnx'. */
export const ML_DOMAIN = 'ai.onnx.ml';
export const isDefaultDomain = (domain: string) => domain === '' || domain === 'ai.onnx';

export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    throw invalidModel(`not a valid ONNX model: the protobuf cannot be read (${(err as Error).message})`);
  }
}

export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}

/** How a node is named in messages: its name, else its operator and first output. */
export const nodeLabel = (node: NodeProto) => `'${node.name || `${node.opType}:${node.output[0] ?? ''}`}'`;

export function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

const utf8 = new TextDecoder();

/** A STRINGS attribute's values as text (ONNX strings are UTF-8). */
export const stringsOf = (a: AttributeProto | undefined) => (a ? a.strings.map((s) => utf8.decode(s)) : []);

/** An INTS attribute's values as decimal strings (int64 values may pass 2^53). */
export const intsOf = (a: AttributeProto | undefined) => (a ? a.ints.map((v) => v.toString()) : []);

export function setIntAttribute(node: NodeProto, name: string, value: number): void {
  const existing = attribute(node, name);
  if (existing) {
    existing.i = BigInt(value);
    existing.type = AttrType.INT;
    return;
  }
  node.attribute.push(create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(value) }));
}

export function newNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  ints: Record<string, number[]> = {},
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    input: inputs,
    output: outputs,
    name,
    attribute: Object.entries(ints).map(([key, values]) =>
      create(AttributeProtoSchema, { name: key, type: AttrType.INTS, ints: values.map(BigInt) }),
    ),
  });
}

export function int64Initializer(graph: GraphProto, name: string, values: number[]): void {
  graph.initializer.push(
    create(TensorProtoSchema, {
      name,
      dataType: ElemType.INT64,
      dims: [BigInt(values.length)],
      int64Data: values.map(BigInt),
    }),
  );
}

/** A tensor type; a string dimension is symbolic (dynamic). */
export function tensorType(elemType: number, dims: (number | string)[]): TypeProto {
  return create(TypeProtoSchema, {
    value: {
      case: 'tensorType',
      value: create(TypeProto_TensorSchema, {
        elemType,
        shape: create(TensorShapeProtoSchema, {
          dim: dims.map((d) =>
            create(TensorShapeProto_DimensionSchema, {
              value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
            }),
          ),
        }),
      }),
    },
  });
}

/** The highest opset the model imports for a domain, or undefined. */
export function opsetOf(model: ModelProto, isDomain: (domain: string) => boolean): number | undefined {
  const versions = model.opsetImport.filter((o) => isDomain(o.domain)).map((o) => Number(o.version));
  return versions.length > 0 ? Math.max(...versions) : undefined;
}

/**
 * The default-domain opset the rewrites' own nodes (Reshape, Identity, Transpose) bind to.
 * A graph made only of ai.onnx.ml operators may import none: it then gets one, at a version
 * whose Reshape takes its shape as an input.
 */
export function defaultOpset(model: ModelProto): number {
  const version = opsetOf(model, isDefaultDomain);
  if (version !== undefined) return version;
  const added = 9;
  model.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(added) }));
  return added;
}

/** Every value and node name in the graph, to make names for new ones that clash with none. */
export class Names {
  private readonly taken = new Set<string>();

  constructor(graph: GraphProto) {
    for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) this.taken.add(v.name);
    for (const t of graph.initializer) this.taken.add(t.name);
    for (const n of graph.node) {
      this.taken.add(n.name);
      for (const name of [...n.input, ...n.output]) this.taken.add(name);
    }
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }
}
