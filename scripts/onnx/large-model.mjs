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

/** A model of about `bytes` (the weights are K x N floats, K = `inputs`). */
export function buildLargeModel(bytes, inputs = 1024) {
  const n = Math.max(1, Math.round(bytes / 4 / inputs));
  const weights = largeModelWeights(inputs, n);
  const file = model({
    nodes: [node('MatMul', ['features', 'weights'], ['scores_raw']), node('Tanh', ['scores_raw'], ['scores'])],
    inputs: [valueInfo('features', 'FP32', ['batch', inputs])],
    outputs: [valueInfo('scores', 'FP32', ['batch', n])],
    initializers: [{ name: 'weights', dataType: 1, dims: [inputs, n], rawData: new Uint8Array(weights.buffer) }],
    name: 'large',
  });
  return { bytes: file, inputs, outputs: n };
}
