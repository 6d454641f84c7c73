// A model as large as asked, for the runner's tests and bench: one MatMul whose weight matrix
// (FP32, raw bytes) takes almost all of the file, with a tanh so values stay in range.
// features [batch, K] x weights [K, N] -> scores [batch, N].
import { model, node, valueInfo } from './build.mjs';

/** Weights as deterministic small numbers (a cheap integer hash of the index). */
export function largeModelWeights(k, n) {
  const weights = new Float32Array(k * n);
  for (let i = 0; i < weights.length; i++) weights[i] = ((Math.imul(i, 2654435761) >>> 20) / 4096 - 0.5) / k;
  return weights;
}

/**
 * A model of about `bytes` (the weights are K x N floats, K = `inputs`). With `head`, a second,
 * small MatMul maps the N scores to `head` outputs, so answers stay small.
 */
export function buildLargeModel(bytes, inputs = 1024, head = 0) {
  const n = Math.max(1, Math.round(bytes / 4 / inputs));
  const weights = largeModelWeights(inputs, n);
  const nodes = [node('MatMul', ['features', 'weights'], ['scores_raw'])];
  const initializers = [{ name: 'weights', dataType: 1, dims: [inputs, n], rawData: new Uint8Array(weights.buffer) }];
  if (head > 0) {
    const headWeights = largeModelWeights(n, head);
    nodes.push(node('Tanh', ['scores_raw'], ['hidden']), node('MatMul', ['hidden', 'head'], ['scores']));
    initializers.push({ name: 'head', dataType: 1, dims: [n, head], rawData: new Uint8Array(headWeights.buffer) });
  } else {
    nodes.push(node('Tanh', ['scores_raw'], ['scores']));
  }
  const file = model({
    nodes,
    inputs: [valueInfo('features', 'FP32', ['batch', inputs])],
    outputs: [valueInfo('scores', 'FP32', ['batch', head > 0 ? head : n])],
    initializers,
    name: 'large',
  });
  return { bytes: file, inputs, outputs: head > 0 ? head : n };
}
