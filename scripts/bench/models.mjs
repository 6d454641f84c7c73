// The models the benchmark serves, with one request each: the demo iris MLP, the largest
// convolutional model and a tree ensemble from the shared fixtures, and a generated ~1 MB CNN
// (the fixtures' conv models are a few hundred bytes; the cold-start target is for ~1 MB).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO, buildDemoModel, rng } from '../demo-model.mjs';
import { model, node, tensor, valueInfo } from '../onnx/build.mjs';

export const FIXTURES = '../shared/fixtures/onnx';

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The passing fixture case with the most bytes among those `accept` takes. */
function largestCase(accept) {
  const index = readJson(join(FIXTURES, 'index.json'));
  const cases = index.cases
    .filter((c) => c.status === 'pass')
    .map((c) => ({ entry: c, data: readJson(join(FIXTURES, c.case)) }))
    .filter(accept)
    .sort((a, b) => b.entry.model_bytes - a.entry.model_bytes);
  if (cases.length === 0) throw new Error('no fixture case fits');
  const { entry, data } = cases[0];
  return { fixture: entry.name, bytes: readFileSync(join(FIXTURES, entry.model)), inputs: data.inputs };
}

/** 3x32x32 image -> 10 classes: three conv blocks and a wide dense layer, about 1 MB of weights. */
export function buildCnn() {
  const r = rng(5);
  const weights = (name, dims) => {
    const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
    const n = dims.reduce((a, b) => a * b, 1);
    return tensor(
      name,
      'FP32',
      dims,
      Array.from({ length: n }, () => r.normal() * Math.sqrt(2 / fanIn)),
    );
  };
  const zeros = (name, n) => tensor(name, 'FP32', [n], new Array(n).fill(0));
  return model({
    name: 'cnn_1mb',
    doc: 'benchmark CNN with seeded random weights',
    inputs: [valueInfo('image', 'FP32', ['batch', 3, 32, 32])],
    outputs: [valueInfo('probabilities', 'FP32', ['batch', 10])],
    initializers: [
      weights('c1', [32, 3, 3, 3]),
      zeros('c1b', 32),
      weights('c2', [64, 32, 3, 3]),
      zeros('c2b', 64),
      weights('c3', [128, 64, 3, 3]),
      zeros('c3b', 128),
      weights('d1', [128, 1280]),
      zeros('d1b', 1280),
      weights('d2', [1280, 10]),
      zeros('d2b', 10),
    ],
    nodes: [
      node('Conv', ['image', 'c1', 'c1b'], ['h1'], { pads: [1, 1, 1, 1] }),
      node('Relu', ['h1'], ['a1']),
      node('MaxPool', ['a1'], ['p1'], { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Conv', ['p1', 'c2', 'c2b'], ['h2'], { pads: [1, 1, 1, 1] }),
      node('Relu', ['h2'], ['a2']),
      node('MaxPool', ['a2'], ['p2'], { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Conv', ['p2', 'c3', 'c3b'], ['h3'], { pads: [1, 1, 1, 1] }),
      node('Relu', ['h3'], ['a3']),
      node('GlobalAveragePool', ['a3'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'd1', 'd1b'], ['h4']),
      node('Relu', ['h4'], ['a4']),
      node('Gemm', ['a4', 'd2', 'd2b'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: 1 }),
    ],
  });
}

const round = (v) => Math.round(v * 1e4) / 1e4;

/**
 * Every model: its name in the registry, the model fields to create it with, its bytes, the
 * V2 input tensors of one request, and whether its first dimension is a free batch dimension.
 */
export function benchModels() {
  const conv = largestCase(({ data }) => Boolean(data.model_info?.ops?.Conv));
  const tree = largestCase(({ data }) =>
    Object.keys(data.model_info?.ops ?? {}).some((op) => op.includes('TreeEnsemble')),
  );
  const image = rng(9);
  // Long cache TTL: the bench outlasts the default 300 s and its hit path must stay a hit.
  const cache = { enabled: true, ttl_seconds: 3600 };
  return [
    {
      name: 'iris',
      about: 'demo 4-16-3 MLP (scripts/demo-model.mjs)',
      fields: { ...withoutName(DEMO), cache },
      bytes: buildDemoModel(),
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [6.7, 3.0, 5.2, 2.3] }],
      batchable: true,
    },
    {
      name: 'conv',
      about: `largest Conv fixture: ${conv.fixture}`,
      fields: { cache },
      bytes: conv.bytes,
      inputs: conv.inputs,
      batchable: false,
    },
    {
      name: 'tree',
      about: `tree ensemble fixture: ${tree.fixture}`,
      fields: { cache },
      bytes: tree.bytes,
      inputs: tree.inputs,
      batchable: false,
    },
    {
      name: 'cnn',
      about: 'generated 3x32x32 CNN, ~1 MB of weights (scripts/bench/models.mjs)',
      fields: { cache },
      bytes: buildCnn(),
      inputs: [
        {
          name: 'image',
          datatype: 'FP32',
          shape: [1, 3, 32, 32],
          data: Array.from({ length: 3 * 32 * 32 }, () => round(image.uniform())),
        },
      ],
      batchable: true,
      // Also sent with the binary tensor data extension, as tritonclient sends it (one more cell).
      binary: true,
    },
  ];
}

function withoutName({ name: _name, ...rest }) {
  return rest;
}

/** Splits flat row-major data into rows along the first dimension, nested to the row's shape. */
function rows(input) {
  const [count, ...rowShape] = input.shape;
  const size = rowShape.reduce((a, b) => a * b, 1);
  const nest = (flat, shape) => {
    if (shape.length === 0) return flat[0];
    const [d, ...rest] = shape;
    const step = flat.length / d;
    return Array.from({ length: d }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest));
  };
  return Array.from({ length: count }, (_, i) => nest(input.data.slice(i * size, (i + 1) * size), rowShape));
}

/** The same request for the instances API: records by feature name, arrays, or objects by input. */
export function instancesOf(m) {
  const perInput = m.inputs.map(rows);
  const features = m.fields.feature_names;
  return perInput[0].map((_, i) => {
    if (m.inputs.length === 1 && features) return Object.fromEntries(features.map((f, j) => [f, perInput[0][i][j]]));
    if (m.inputs.length === 1) return perInput[0][i];
    return Object.fromEntries(m.inputs.map((input, k) => [input.name, perInput[k][i]]));
  });
}
