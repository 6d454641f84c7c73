import { invalidInput } from '../core/errors';
import type { Signature } from '../core/signature';
import type { Tensor, TensorData } from '../core/tensor';
import type { NamedTensors } from './types';

/*
 * A model exported with a batch dimension fixed at 1 (`[1, 780]`) takes one row per run. The
 * instances API and batch jobs still take many records: the rows are run one at a time and the
 * answers stacked, as if the model had batched them. The Open Inference Protocol keeps the
 * model's real shape, so its callers send one row.
 */

/** The rows to run one at a time: the batch's size when the model fixes its batch at 1, else 0. */
export function rowsToRunAlone(signature: Signature, inputs: NamedTensors): number {
  const fixed = signature.inputs.filter((s) => s.shape[0] === 1);
  if (fixed.length === 0) return 0;
  const rows = inputs[fixed[0]!.name]?.shape[0] ?? 1;
  return rows > 1 ? rows : 0;
}

function rowOf(tensor: Tensor, i: number): Tensor {
  const size = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = Array.isArray(tensor.data)
    ? tensor.data.slice(i * size, (i + 1) * size)
    : tensor.data.subarray(i * size, (i + 1) * size);
  return { ...tensor, shape: [1, ...tensor.shape.slice(1)], data: data as TensorData };
}

export function concatData(tensors: Tensor[]): TensorData {
  if (Array.isArray(tensors[0]!.data)) return tensors.flatMap((t) => t.data as string[]);
  const total = tensors.reduce((n, t) => n + t.data.length, 0);
  const Ctor = tensors[0]!.data.constructor as new (n: number) => Exclude<TensorData, string[]>;
  const out = new Ctor(total);
  let offset = 0;
  for (const t of tensors) {
    (out as Uint8Array).set(t.data as Uint8Array, offset);
    offset += t.data.length;
  }
  return out;
}

export async function runRowByRow(
  run: (inputs: NamedTensors) => Promise<NamedTensors>,
  inputs: NamedTensors,
  rows: number,
): Promise<NamedTensors> {
  const answers: NamedTensors[] = [];
  for (let i = 0; i < rows; i++) {
    const row: NamedTensors = {};
    for (const [name, tensor] of Object.entries(inputs))
      row[name] = tensor.shape[0] === rows ? rowOf(tensor, i) : tensor;
    answers.push(await run(row));
  }
  const stacked: NamedTensors = {};
  for (const [name, first] of Object.entries(answers[0]!)) {
    const parts = answers.map((a) => a[name]!);
    const odd = parts.find((p) => p.shape[0] !== 1 || p.shape.join(',') !== first.shape.join(','));
    if (odd) {
      throw invalidInput(
        `the model takes one row at a time, and its output '${name}' has shape [${odd.shape.join(', ')}] for one row, which cannot be stacked into a batch; send one instance per request`,
      );
    }
    stacked[name] = { ...first, shape: [rows, ...first.shape.slice(1)], data: concatData(parts) };
  }
  return stacked;
}
