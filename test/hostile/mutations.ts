/*
 * Byte-level mutations of real models. Seeded, so a failure names a file that can be made
 * again: the seed, the source fixture and the offset are in the label.
 */
import { seeded } from '../helpers';

export interface Hostile {
  kind: string;
  label: string;
  bytes: Uint8Array;
}

/** `count` files, each with 1 to 3 bits flipped at seeded offsets. */
export function bitFlips(source: string, bytes: Uint8Array, count: number, seed: number): Hostile[] {
  const random = seeded(seed);
  const out: Hostile[] = [];
  for (let i = 0; i < count; i++) {
    const copy = bytes.slice();
    const flips = 1 + Math.floor(random() * 3);
    const where: string[] = [];
    for (let f = 0; f < flips; f++) {
      const offset = Math.floor(random() * copy.length);
      const bit = Math.floor(random() * 8);
      copy[offset]! ^= 1 << bit;
      where.push(`${offset}.${bit}`);
    }
    out.push({ kind: 'bit flip', label: `${source} seed ${seed} #${i} bits ${where.join(',')}`, bytes: copy });
  }
  return out;
}

/**
 * Prefixes of a model: 1 to 16 bytes (inside the first field headers), seeded lengths through
 * the body (inside the graph, its nodes and initializers), and one byte short of whole.
 */
export function truncations(source: string, bytes: Uint8Array, inside: number, seed: number): Hostile[] {
  const random = seeded(seed);
  const lengths = new Set<number>();
  for (let n = 1; n <= Math.min(16, bytes.length - 1); n++) lengths.add(n);
  for (let i = 0; i < inside; i++) lengths.add(1 + Math.floor(random() * (bytes.length - 1)));
  lengths.add(bytes.length - 1);
  return [...lengths].map((n) => ({
    kind: 'truncation',
    label: `${source} cut to ${n} of ${bytes.length} bytes`,
    bytes: bytes.slice(0, n),
  }));
}

const text = (s: string) => new TextEncoder().encode(s);

/** Files that are not ONNX at all, some of them wearing the start of one. */
export function wrongMagic(model: Uint8Array, seed: number): Hostile[] {
  const random = seeded(seed);
  const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  const withHeader = (header: number[], rest: Uint8Array) => Uint8Array.from([...header, ...rest]);
  const files: [string, Uint8Array][] = [
    ['0 bytes', new Uint8Array(0)],
    ['1 zero byte', Uint8Array.of(0)],
    ['1 byte 0x08', Uint8Array.of(0x08)],
    ['PNG header then the model', withHeader([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], model)],
    ['PNG header alone', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13)],
    ['zip local header', withHeader([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0], randomBytes(200))],
    ['gzip header', withHeader([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3], randomBytes(200))],
    ['PDF', text('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n')],
    ['ELF', withHeader([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], randomBytes(120))],
    ['plain text', text('this is not an onnx model, it is a shopping list: eggs, milk\n')],
    ['JSON', text(JSON.stringify({ model: 'iris', graph: { node: [{ op_type: 'Relu' }] }, ir_version: 8 }))],
    ['HTML', text('<!doctype html><html><body>404 Not Found</body></html>')],
    ['ORT format flatbuffer header', withHeader([0x14, 0, 0, 0, 0x4f, 0x52, 0x54, 0x4d], randomBytes(64))],
    ['all 0xff', new Uint8Array(512).fill(0xff)],
    ['all zeros', new Uint8Array(512)],
    ['the model twice', withHeader([...model], model)],
    ['the model base64', text(btoa(String.fromCharCode(...model)))],
    ['model with a junk byte in front', withHeader([0x00], model)],
    ['varint of 10 continuation bytes', new Uint8Array(10).fill(0x80)],
    ['a length of 2^62', Uint8Array.of(0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40)],
  ];
  for (const size of [1, 7, 64, 1024, 65536]) files.push([`${size} random bytes`, randomBytes(size)]);
  return files.map(([label, bytes]) => ({ kind: 'wrong magic', label, bytes }));
}
