import { invalidInput } from '../core/errors';
import { DATATYPE_INFO, type Datatype, type Tensor, type TensorData } from '../core/tensor';
import { allocate } from './tensor-decode';

/*
 * The binary tensor data extension (Triton's `binary_tensor_data`, as KServe documents it):
 * elements little-endian, row-major, in their native size, no padding; BOOL one byte, 0 or 1;
 * BYTES each element a 4-byte little-endian length and then its bytes. The typed arrays the
 * runtime takes hold exactly these bytes (Workers run on little-endian machines), so numbers are
 * copied, not converted, and a binary input meets a JSON one in the same tensor (and the same
 * prediction cache key). The JSON way is tensor-decode.ts and tensor-json.ts.
 */

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;
// A byte order mark is kept as the element's first character, not dropped.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Bytes per element of a fixed-size datatype (BYTES has none). */
export function elementBytes(datatype: Datatype): number {
  const info = DATATYPE_INFO[datatype];
  if (info.kind === 'bytes') return 0;
  if (info.kind === 'bool') return 1;
  return info.kind === 'half' ? 2 : (info.array as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
}

/** BYTES elements: a 4-byte little-endian length, then the element's UTF-8 bytes. */
function decodeStrings(bytes: Uint8Array, count: number, where: string): string[] {
  const out = new Array<string>(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) {
      throw invalidInput(
        `${where}: its binary data ends after ${i} of the ${count} BYTES elements its shape needs (each is a 4-byte little-endian length, then its bytes)`,
      );
    }
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.byteLength) {
      throw invalidInput(
        `${where}: element ${i} declares ${length} bytes but only ${bytes.byteLength - at} remain in its binary data`,
      );
    }
    let value: string;
    try {
      value = utf8.decode(bytes.subarray(at, at + length));
    } catch {
      throw invalidInput(`${where}: element ${i} is not valid UTF-8; BYTES elements must be UTF-8 text here`);
    }
    if (value.includes('\0')) {
      throw invalidInput(
        `${where}: element ${i} contains a NUL byte; BYTES expects strings without NUL characters (onnxruntime-web cuts strings at NUL)`,
      );
    }
    out[i] = value;
    at += length;
  }
  if (at !== bytes.byteLength) {
    throw invalidInput(
      `${where}: its binary data holds ${bytes.byteLength - at} bytes after the ${count} BYTES elements its shape needs`,
    );
  }
  return out;
}

/**
 * Binary tensor data into the typed array the runtime takes. `where` names the input; the byte
 * count must be exactly what the shape needs, and BOOL bytes must be 0 or 1.
 */
export function decodeBinary(
  bytes: Uint8Array,
  shape: readonly number[],
  datatype: Datatype,
  where: string,
): TensorData {
  const count = shape.reduce((a, b) => a * b, 1);
  if (datatype === 'BYTES') return decodeStrings(bytes, count, where);
  const size = elementBytes(datatype);
  if (bytes.byteLength !== count * size) {
    throw invalidInput(
      `${where} has ${bytes.byteLength} bytes of binary data but its shape ${fmt(shape)} of ${datatype} needs ${count * size} (${size} byte${size > 1 ? 's' : ''} per element)`,
    );
  }
  if (datatype === 'BOOL') {
    const bad = bytes.findIndex((b) => b > 1);
    if (bad >= 0) throw invalidInput(`${where}: element ${bad} is byte ${bytes[bad]}; BOOL expects 0 or 1`);
  }
  const out = allocate(datatype, count) as Exclude<TensorData, string[]>;
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

/** A tensor's data as binary tensor data. */
export function encodeBinary(tensor: Pick<Tensor, 'data'>): Uint8Array {
  const { data } = tensor;
  if (!Array.isArray(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const parts = data.map((s) => encoder.encode(s));
  const out = new Uint8Array(parts.reduce((sum, p) => sum + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.byteLength, true);
    out.set(part, at + 4);
    at += 4 + part.byteLength;
  }
  return out;
}

/** Where a binary tensor data body's JSON header ends (Triton's binary tensor data extension). */
export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

/** A JSON header followed by the tensors' bytes, with the headers that say where it ends. */
export function frameBinary(
  headerJson: string,
  sections: Uint8Array[],
): { body: Uint8Array; headers: Record<string, string> } {
  const header = encoder.encode(headerJson);
  const body = new Uint8Array(sections.reduce((sum, s) => sum + s.byteLength, header.byteLength));
  body.set(header, 0);
  let at = header.byteLength;
  for (const section of sections) {
    body.set(section, at);
    at += section.byteLength;
  }
  return {
    body,
    headers: { 'Content-Type': 'application/octet-stream', [INFERENCE_HEADER]: String(header.byteLength) },
  };
}
