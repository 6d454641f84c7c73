// The demo model `npm start` serves: a 4-16-3 MLP iris classifier trained here, in Node, on
// a seeded synthetic sample drawn around the classic per-species means, then written as ONNX.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { model, node, tensor, valueInfo } from './onnx/build.mjs';

export const DEMO = {
  name: 'iris',
  description: 'Iris species from sepal and petal measurements (cm); a 4-16-3 MLP, demo model',
  task: 'classification',
  tags: { demo: 'true', framework: 'modelflare-scripts' },
  feature_names: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  class_labels: ['setosa', 'versicolor', 'virginica'],
};

const SPECIES = [
  { mean: [5.01, 3.43, 1.46, 0.25], sd: [0.35, 0.38, 0.17, 0.11] },
  { mean: [5.94, 2.77, 4.26, 1.33], sd: [0.52, 0.31, 0.47, 0.2] },
  { mean: [6.59, 2.97, 5.55, 2.03], sd: [0.64, 0.32, 0.55, 0.27] },
];

export function rng(seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/** `count` rows per species: [features, class index]. */
export function irisSample(count, seed = 7) {
  const r = rng(seed);
  const rows = [];
  SPECIES.forEach((s, label) => {
    for (let i = 0; i < count; i++) rows.push([s.mean.map((m, j) => m + s.sd[j] * r.normal()), label]);
  });
  return rows;
}

function train(rows, hidden = 16, epochs = 1500, lr = 0.2) {
  const r = rng(11);
  const mean = [0, 1, 2, 3].map((j) => rows.reduce((s, [x]) => s + x[j], 0) / rows.length);
  const sd = [0, 1, 2, 3].map((j) => Math.sqrt(rows.reduce((s, [x]) => s + (x[j] - mean[j]) ** 2, 0) / rows.length));
  const X = rows.map(([x]) => x.map((v, j) => (v - mean[j]) / sd[j]));
  const W1 = Array.from({ length: 4 }, () => Array.from({ length: hidden }, () => r.normal() * 0.5));
  const b1 = new Array(hidden).fill(0);
  const W2 = Array.from({ length: hidden }, () => Array.from({ length: 3 }, () => r.normal() * 0.5));
  const b2 = [0, 0, 0];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gW1 = W1.map((row) => row.map(() => 0));
    const gb1 = b1.map(() => 0);
    const gW2 = W2.map((row) => row.map(() => 0));
    const gb2 = [0, 0, 0];
    X.forEach((x, n) => {
      const z1 = b1.map((b, h) => b + x.reduce((s, v, j) => s + v * W1[j][h], 0));
      const a1 = z1.map((z) => Math.max(0, z));
      const z2 = b2.map((b, k) => b + a1.reduce((s, v, h) => s + v * W2[h][k], 0));
      const max = Math.max(...z2);
      const e = z2.map((z) => Math.exp(z - max));
      const p = e.map((v) => v / e.reduce((s, u) => s + u, 0));
      const d2 = p.map((v, k) => v - (k === rows[n][1] ? 1 : 0));
      d2.forEach((d, k) => {
        gb2[k] += d;
        a1.forEach((a, h) => (gW2[h][k] += a * d));
      });
      const d1 = a1.map((a, h) => (z1[h] > 0 ? d2.reduce((s, d, k) => s + d * W2[h][k], 0) : 0));
      d1.forEach((d, h) => {
        gb1[h] += d;
        x.forEach((v, j) => (gW1[j][h] += v * d));
      });
    });
    const step = lr / X.length;
    W1.forEach((row, j) => row.forEach((_, h) => (W1[j][h] -= step * gW1[j][h])));
    b1.forEach((_, h) => (b1[h] -= step * gb1[h]));
    W2.forEach((row, h) => row.forEach((_, k) => (W2[h][k] -= step * gW2[h][k])));
    b2.forEach((_, k) => (b2[k] -= step * gb2[k]));
  }
  // Fold the standardisation into the first layer so the model takes raw centimetres.
  const W1raw = W1.map((row, j) => row.map((w) => w / sd[j]));
  const b1raw = b1.map((b, h) => b - W1.reduce((s, row, j) => s + (row[h] * mean[j]) / sd[j], 0));
  return { W1: W1raw, b1: b1raw, W2, b2 };
}

/**
 * Builds the demo classifier's ONNX bytes (deterministic). Fewer hidden units or epochs make a
 * different, weaker model of the same signature: a second version to compare (scripts/traffic.mjs).
 */
export function buildDemoModel({ hidden = 16, epochs = 1500 } = {}) {
  const { W1, b1, W2, b2 } = train(irisSample(50), hidden, epochs);
  return model({
    name: 'iris_mlp',
    doc: 'iris 4-16-3 MLP; inputs in centimetres',
    inputs: [valueInfo('features', 'FP32', ['batch', 4])],
    outputs: [valueInfo('label', 'INT64', ['batch']), valueInfo('probabilities', 'FP32', ['batch', 3])],
    initializers: [
      tensor('W1', 'FP32', [4, hidden], W1.flat()),
      tensor('b1', 'FP32', [hidden], b1),
      tensor('W2', 'FP32', [hidden, 3], W2.flat()),
      tensor('b2', 'FP32', [3], b2),
    ],
    nodes: [
      node('Gemm', ['features', 'W1', 'b1'], ['hidden']),
      node('Relu', ['hidden'], ['hidden_relu']),
      node('Gemm', ['hidden_relu', 'W2', 'b2'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: 1 }),
      node('ArgMax', ['probabilities'], ['label'], { axis: 1, keepdims: 0 }),
    ],
  });
}

export function writeDemoModel(path) {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = buildDemoModel();
  writeFileSync(path, bytes);
  return bytes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? '.generated/demo-iris.onnx';
  const bytes = writeDemoModel(out);
  console.log(`wrote ${out} (${bytes.length} bytes)`);
}
