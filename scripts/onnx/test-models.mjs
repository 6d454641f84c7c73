// Models the test suite generates at build time (in Node) for what the shared fixtures do not
// cover: every datatype, big INT64 values, several inputs and outputs, dynamic batch sizes.
import { buildDemoModel } from '../demo-model.mjs';
import { model, node, tensor, valueInfo } from './build.mjs';
import { buildImportTestModels } from './import-models.mjs';

/**
 * `datatypes`: the platform's datatype table (workers/core/tensor.ts), passed in rather than
 * copied so the identity model covers exactly what the platform maps.
 */
export function buildTestModels(datatypes) {
  return {
    // What the import rewrites at upload (import-models.mjs): import_zipmap_int64 and the others.
    ...Object.fromEntries(Object.entries(buildImportTestModels()).map(([name, bytes]) => [`import_${name}`, bytes])),
    iris: buildDemoModel(),
    // One Identity per datatype: what goes in must come out unchanged.
    identity: model({
      inputs: datatypes.map((d) => valueInfo(`in_${d.toLowerCase()}`, d, ['n'])),
      outputs: datatypes.map((d) => valueInfo(`out_${d.toLowerCase()}`, d, ['n'])),
      nodes: datatypes.map((d) => node('Identity', [`in_${d.toLowerCase()}`], [`out_${d.toLowerCase()}`])),
    }),
    // Two inputs of different types, three outputs, dynamic batch.
    multi: model({
      inputs: [valueInfo('a', 'FP32', ['batch', 3]), valueInfo('b', 'INT64', ['batch'])],
      outputs: [
        valueInfo('sum', 'FP32', ['batch']),
        valueInfo('scaled', 'FP32', ['batch', 3]),
        valueInfo('b_neg', 'INT64', ['batch']),
      ],
      initializers: [tensor('axes', 'INT64', [1], [1]), tensor('two', 'FP32', [], [2])],
      nodes: [
        node('ReduceSum', ['a', 'axes'], ['sum'], { keepdims: 0 }),
        node('Mul', ['a', 'two'], ['scaled']),
        node('Neg', ['b'], ['b_neg']),
      ],
    }),
    // y = 2·x1 − x2 + 0.5, one value per row: a regressor.
    regressor: model({
      inputs: [valueInfo('x', 'FP32', ['batch', 2])],
      outputs: [valueInfo('y', 'FP32', ['batch', 1])],
      initializers: [tensor('w', 'FP32', [2, 1], [2, -1]), tensor('b', 'FP32', [1], [0.5])],
      nodes: [node('MatMul', ['x', 'w'], ['xw']), node('Add', ['xw', 'b'], ['y'])],
    }),
    // Same signature as the regressor, other weights: y = x1 + x2.
    regressor2: model({
      inputs: [valueInfo('x', 'FP32', ['batch', 2])],
      outputs: [valueInfo('y', 'FP32', ['batch', 1])],
      initializers: [tensor('w', 'FP32', [2, 1], [1, 1]), tensor('b', 'FP32', [1], [0])],
      nodes: [node('MatMul', ['x', 'w'], ['xw']), node('Add', ['xw', 'b'], ['y'])],
    }),
    // Two-class classifiers on x [batch, 2]: label = argmax(x·W), probabilities = softmax(x·W).
    // `classifier` says class 0 when x1 > x2; `classifier_sharp` agrees with surer
    // probabilities; `classifier_flipped` always disagrees (rollout shadows compare them).
    ...Object.fromEntries(
      [
        ['classifier', 1],
        ['classifier_sharp', 3],
        ['classifier_flipped', -1],
      ].map(([name, k]) => [
        name,
        model({
          inputs: [valueInfo('x', 'FP32', ['batch', 2])],
          outputs: [valueInfo('label', 'INT64', ['batch']), valueInfo('probabilities', 'FP32', ['batch', 2])],
          initializers: [tensor('w', 'FP32', [2, 2], [k, -k, -k, k])],
          nodes: [
            node('MatMul', ['x', 'w'], ['logits']),
            node('Softmax', ['logits'], ['probabilities'], { axis: 1 }),
            node('ArgMax', ['logits'], ['label'], { axis: 1, keepdims: 0 }),
          ],
        }),
      ]),
    ),
    // A model whose batch dimension is fixed at 1.
    fixedbatch: model({
      inputs: [valueInfo('x', 'FP32', [1, 2])],
      outputs: [valueInfo('y', 'FP32', [1, 2])],
      nodes: [node('Relu', ['x'], ['y'])],
    }),
  };
}
