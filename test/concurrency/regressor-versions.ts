import { expect } from 'vitest';
import { call, fixture, infer, uploadRaw, type TestWorker } from '../helpers';

/*
 * Model files whose answers say which file computed them: the generated regressor
 * y = 2·x1 − x2 + b with its bias b rewritten. Every variant has the same signature, so any of
 * them can stand behind an alias, and y − (2·x1 − x2) gives b back exactly (small integers are
 * exact in float32).
 */

const REGRESSOR = fixture('generated/regressor.onnx');
const HALF = [0x00, 0x00, 0x00, 0x3f]; // 0.5, the generated bias, as little-endian float32

function biasOffset(bytes: Uint8Array): number {
  const hits: number[] = [];
  for (let i = 0; i + 4 <= bytes.length; i += 1) if (HALF.every((b, j) => bytes[i + j] === b)) hits.push(i);
  if (hits.length !== 1) throw new Error(`expected one float32 0.5 in the regressor, found ${hits.length}`);
  return hits[0]!;
}
const OFFSET = biasOffset(REGRESSOR);

export function regressorWithBias(bias: number): Uint8Array {
  const bytes = REGRESSOR.slice();
  new DataView(bytes.buffer).setFloat32(OFFSET, bias, true);
  return bytes;
}

/** Rows to predict on; a few fixed sets so that the prediction cache gets hits. */
export const ROW_SETS: number[][][] = [
  [
    [1, 2],
    [3, -1],
    [0.5, 4],
  ],
  [[10, 1]],
  [
    [-2, 5],
    [4, 4],
  ],
];

/** The bias each row's answer implies; one file computed them all only if they are equal. */
export function impliedBiases(rows: number[][], ys: number[]): number[] {
  return rows.map(([x1, x2], i) => ys[i]! - (2 * x1! - x2!));
}

/** Uploads `biases.length` versions of a new model, bias `biases[i]` in version i + 1. */
export async function uploadVersions(name: string, biases: number[]): Promise<Map<number, number>> {
  const biasByVersion = new Map<number, number>();
  for (const bias of biases) {
    const res = await uploadRaw(name, regressorWithBias(bias));
    expect(res.status, await res.clone().text()).toBe(201);
    biasByVersion.set(((await res.json()) as { version: number }).version, bias);
  }
  return biasByVersion;
}

export interface Answer {
  status: number;
  /** The version the response says answered. */
  version: number;
  /** One bias per row, as implied by the outputs. */
  biases: number[];
  cache: string | null;
  body: string;
}

export type Route = 'v2' | 'predict';

/** Predicts `rows` through `ref` (an alias, a number, or undefined for the default). */
export async function ask(
  route: Route,
  name: string,
  ref: string | undefined,
  rows: number[][],
  cacheControl?: string,
  via?: TestWorker,
): Promise<Answer> {
  const headers = cacheControl ? { 'cache-control': cacheControl } : undefined;
  const at = ref === undefined ? '' : `/versions/${ref}`;
  const res =
    route === 'v2'
      ? await infer(
          `/v2/models/${name}${at}/infer`,
          { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 2], data: rows.flat() }] },
          headers,
          via,
        )
      : await call('POST', `/v1/models/${name}${at}/predict`, { body: { instances: rows }, headers, via });
  const body = await res.text();
  if (res.status !== 200) return { status: res.status, version: NaN, biases: [], cache: null, body };
  const json = JSON.parse(body);
  const ys: number[] = route === 'v2' ? json.outputs[0].data : json.predictions;
  return {
    status: res.status,
    version: Number(json.model_version),
    biases: impliedBiases(rows, ys),
    cache: res.headers.get('x-cache'),
    body,
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Lets a random number of macrotasks pass, so concurrent operations start in varied orders. */
export function stagger(random: () => number, max = 3): Promise<void> {
  const turns = Math.floor(random() * (max + 1));
  let p = Promise.resolve();
  for (let i = 0; i < turns; i += 1) p = p.then(() => new Promise((r) => setTimeout(r, 0)));
  return p;
}
