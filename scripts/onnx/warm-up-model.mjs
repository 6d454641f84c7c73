// Writes workers/runtime/warm-up.onnx: the few-hundred-byte model a cold isolate loads and runs
// while a prediction request waits for its credential and model record, so that onnxruntime's
// start and the first compilation of its load and run paths are off that request's critical
// path. Rerun after changing the graph: `node scripts/onnx/warm-up-model.mjs`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { model, node, tensor, valueInfo } from './build.mjs';

export function buildWarmUpModel() {
  return model({
    name: 'warm_up',
    doc: 'modelflare runtime warm-up: Gemm, Softmax, ArgMax over 4 features',
    inputs: [valueInfo('x', 'FP32', ['batch', 4])],
    outputs: [valueInfo('label', 'INT64', ['batch']), valueInfo('p', 'FP32', ['batch', 3])],
    initializers: [
      tensor('W', 'FP32', [4, 3], [0.5, -0.25, 0.125, 1, 0.5, -1, -0.5, 0.25, 0.75, 0.1, 0.2, 0.3]),
      tensor('b', 'FP32', [3], [0, 0.1, -0.1]),
    ],
    nodes: [
      node('Gemm', ['x', 'W', 'b'], ['logits']),
      node('Softmax', ['logits'], ['p'], { axis: 1 }),
      node('ArgMax', ['p'], ['label'], { axis: 1, keepdims: 0 }),
    ],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = fileURLToPath(new URL('../../workers/runtime/warm-up.onnx', import.meta.url));
  const bytes = buildWarmUpModel();
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes)`);
}
