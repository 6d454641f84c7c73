import { invalidModel } from '../core/errors';
import type { OnnxHeader } from '../core/signature';

/*
 * Reads the top level of an ONNX ModelProto (ir_version, producer, opset imports) without a
 * protobuf library: Workers forbid the code generation protobufjs relies on, and only a few
 * scalar fields are wanted. Walking the top level also catches non-ONNX and truncated files
 * with a precise message before onnxruntime sees them.
 */

const enum Wire {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  Fixed32 = 5,
}

const GRAPH_FIELD = 7;

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end = bytes.length,
  ) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error(`varint runs past the end at byte ${this.pos}`);
      const byte = this.bytes[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new Error(`malformed varint at byte ${this.pos}`);
  }

  skip(length: number): void {
    if (length > this.end - this.pos) {
      throw new Error(`a field declares ${length} bytes at byte ${this.pos} but only ${this.end - this.pos} remain`);
    }
    this.pos += length;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

function readOpset(bytes: Uint8Array, start: number, end: number): { domain: string; version: number } {
  const reader = new Reader(bytes, end);
  reader.pos = start;
  let domain = '';
  let version = 0;
  while (reader.pos < end) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === Wire.LengthDelimited) {
      const length = reader.varint();
      const from = reader.pos;
      reader.skip(length);
      domain = decoder.decode(bytes.subarray(from, from + length));
    } else if (field === 2 && wire === Wire.Varint) {
      version = reader.varint();
    } else {
      skipField(reader, wire);
    }
  }
  return { domain: domain || 'ai.onnx', version };
}

function skipField(reader: Reader, wire: number): void {
  switch (wire) {
    case Wire.Varint:
      reader.varint();
      return;
    case Wire.Fixed64:
      reader.skip(8);
      return;
    case Wire.LengthDelimited:
      reader.skip(reader.varint());
      return;
    case Wire.Fixed32:
      reader.skip(4);
      return;
    default:
      throw new Error(`unknown protobuf wire type ${wire} at byte ${reader.pos}`);
  }
}

/** How many nodes the main graph (GraphProto field 1) lists; subgraphs inside nodes not counted. */
function countNodes(bytes: Uint8Array, start: number, end: number): number {
  const reader = new Reader(bytes, end);
  reader.pos = start;
  let nodes = 0;
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag === (1 << 3) + Wire.LengthDelimited) nodes += 1;
    skipField(reader, tag & 7);
  }
  return nodes;
}

/** Parses the ModelProto's top level; throws an invalid_model error that says what is wrong. */
export function readOnnxHeader(bytes: Uint8Array): OnnxHeader & { nodes: number } {
  if (bytes.length === 0) throw invalidModel('the model file is empty');
  const header: OnnxHeader = { irVersion: null, producerName: null, producerVersion: null, opsets: [] };
  let hasGraph = false;
  let nodes = 0;
  const reader = new Reader(bytes);
  try {
    while (reader.pos < bytes.length) {
      const tag = reader.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) throw new Error(`field number 0 at byte ${reader.pos}`);
      if (wire === Wire.LengthDelimited) {
        const length = reader.varint();
        const from = reader.pos;
        reader.skip(length);
        if (field === 2) header.producerName = decoder.decode(bytes.subarray(from, from + length));
        if (field === 3) header.producerVersion = decoder.decode(bytes.subarray(from, from + length));
        if (field === 8) header.opsets.push(readOpset(bytes, from, from + length));
        if (field === GRAPH_FIELD) {
          hasGraph = true;
          nodes += countNodes(bytes, from, from + length);
        }
      } else if (field === 1 && wire === Wire.Varint) {
        header.irVersion = reader.varint();
      } else {
        skipField(reader, wire);
      }
    }
  } catch (err) {
    throw invalidModel(
      `not a valid ONNX model: the protobuf cannot be read (${(err as Error).message}); the file may be truncated or not ONNX`,
    );
  }
  if (!hasGraph) throw invalidModel('not a valid ONNX model: the file holds no graph');
  return { ...header, nodes };
}
