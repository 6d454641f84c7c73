/*
 * Models for rollout tests from the client side: a candidate that fails every request the
 * demo model takes (it was trained with a fifth feature the callers do not send), as a real
 * broken release does.
 */
import { model, node, tensor, valueInfo } from '../../scripts/onnx/build.mjs';

/** An iris classifier that wants five features: four-feature requests answer 400. */
export function fiveFeatureCandidate(): Uint8Array {
  return model({
    name: 'iris_five_features',
    doc: 'a candidate trained with a fifth feature',
    inputs: [valueInfo('features', 'FP32', ['batch', 5])],
    outputs: [valueInfo('label', 'INT64', ['batch']), valueInfo('probabilities', 'FP32', ['batch', 3])],
    // build.mjs is untyped JavaScript: its default `initializers = []` reads as never[].
    initializers: [
      tensor(
        'W',
        'FP32',
        [5, 3],
        Array.from({ length: 15 }, (_, i) => ((i % 7) - 3) / 10),
      ),
      tensor('b', 'FP32', [3], [0.1, 0, -0.1]),
    ] as never[],
    nodes: [
      node('Gemm', ['features', 'W', 'b'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: 1 }),
      node('ArgMax', ['probabilities'], ['label'], { axis: 1, keepdims: 0 }),
    ],
  });
}
