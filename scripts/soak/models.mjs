// The soak's models: an answer any client can compute, and different for every version, so a
// response that carries one version's label and another version's numbers is caught.
import { model, node, tensor, valueInfo } from '../onnx/build.mjs';

export const WIDTH = 4;

/** y = 2·x + offset, per element, for a batch of rows of WIDTH values. */
export function affineModel(offset) {
  return model({
    name: `affine_${offset}`,
    inputs: [valueInfo('x', 'FP32', ['batch', WIDTH])],
    outputs: [valueInfo('y', 'FP32', ['batch', WIDTH])],
    initializers: [tensor('two', 'FP32', [], [2]), tensor('offset', 'FP32', [], [offset])],
    nodes: [node('Mul', ['x', 'two'], ['doubled']), node('Add', ['doubled', 'offset'], ['y'])],
  });
}

/** What the model of `offset` answers for one row, rounded as FP32 is. */
export function expectedRow(row, offset) {
  return row.map((v) => Math.fround(Math.fround(Math.fround(v) * 2) + Math.fround(offset)));
}

/** Whether two rows agree within FP32 rounding. */
export function sameRow(actual, expected) {
  return (
    Array.isArray(actual) &&
    actual.length === expected.length &&
    actual.every(
      (v, i) => typeof v === 'number' && Math.abs(v - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])),
    )
  );
}
