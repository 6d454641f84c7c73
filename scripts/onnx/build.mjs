// Writes small ONNX models from JavaScript, for the demo model, tests and benchmarks.
// Runs in Node at build time (protobufjs generates code, which Workers forbid).
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = protobuf.loadSync(fileURLToPath(new URL('./onnx-subset.proto', import.meta.url)));
const ModelProto = root.lookupType('onnx.ModelProto');

export const ElemType = {
  FP32: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BYTES: 8,
  BOOL: 9,
  FP16: 10,
  FP64: 11,
  UINT32: 12,
  UINT64: 13,
};

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 };

/** A dimension is a number (fixed) or a string (symbolic, dynamic). */
function shapeProto(shape) {
  return { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
}

export function valueInfo(name, datatype, shape) {
  return { name, type: { tensorType: { elemType: ElemType[datatype], shape: shapeProto(shape) } } };
}

/** A map(key, tensor(value)) value, as a DictVectorizer reads. */
export function mapValueInfo(name, keyDatatype, valueDatatype) {
  return { name, type: mapType(keyDatatype, valueDatatype) };
}

/** A seq(map(key, tensor(value))) value, as a ZipMap writes. */
export function mapSequenceValueInfo(name, keyDatatype, valueDatatype) {
  return { name, type: { sequenceType: { elemType: mapType(keyDatatype, valueDatatype) } } };
}

function mapType(keyDatatype, valueDatatype) {
  return {
    mapType: { keyType: ElemType[keyDatatype], valueType: { tensorType: { elemType: ElemType[valueDatatype] } } },
  };
}

/** An initializer; `values` is a flat array in row-major order. */
export function tensor(name, datatype, dims, values) {
  const t = { name, dataType: ElemType[datatype], dims };
  if (datatype === 'FP32') t.floatData = values;
  else if (datatype === 'FP64') t.doubleData = values;
  else if (datatype === 'INT64') t.int64Data = values;
  else if (datatype === 'BYTES') t.stringData = values.map((s) => Buffer.from(s));
  else t.int32Data = values.map(Number);
  return t;
}

function attribute(name, value) {
  if (typeof value === 'number') {
    return Number.isInteger(value) && !Object.is(value, -0) && !String(value).includes('.')
      ? { name, type: ATTR.INT, i: value }
      : { name, type: ATTR.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: ATTR.STRING, s: Buffer.from(value) };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return { name, type: ATTR.STRINGS, strings: value.map((s) => Buffer.from(s)) };
  }
  if (Array.isArray(value)) {
    return value.every(Number.isInteger)
      ? { name, type: ATTR.INTS, ints: value }
      : { name, type: ATTR.FLOATS, floats: value };
  }
  if (value && value.float !== undefined) return { name, type: ATTR.FLOAT, f: value.float };
  if (value && value.floats !== undefined) return { name, type: ATTR.FLOATS, floats: value.floats };
  if (value && value.dataType !== undefined) return { name, type: ATTR.TENSOR, t: value };
  throw new Error(`unsupported attribute ${name}`);
}

/** `attrs` values: number (int, or float with {float}), string, number[] or string[]. */
export function node(opType, inputs, outputs, attrs = {}, domain = '') {
  return {
    opType,
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    domain,
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

export function model({
  nodes,
  inputs,
  outputs,
  initializers = [],
  opset = 17,
  extraOpsets = [],
  name = 'graph',
  doc = '',
}) {
  const message = ModelProto.create({
    irVersion: 8,
    producerName: 'modelflare-scripts',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: opset }, ...extraOpsets],
    graph: { name, node: nodes, input: inputs, output: outputs, initializer: initializers, docString: doc },
  });
  return ModelProto.encode(message).finish();
}

/**
 * The model with more graph outputs (name: datatype), to read values inside it: a reference
 * runtime then returns what an intermediate node computed. Only the fields of onnx-subset.proto
 * survive, which is all the models the scripts write and the sklearn fixtures use.
 */
export function withOutputs(bytes, outputs) {
  const message = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number });
  for (const [name, datatype] of Object.entries(outputs)) {
    message.graph.output.push({ name, type: { tensorType: { elemType: ElemType[datatype] } } });
  }
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}
