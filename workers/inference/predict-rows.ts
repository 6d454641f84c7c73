import { DomainError } from '../core/errors';
import { isBackendFailure } from './backends/backends';
import { instancesToTensors, outputsToPredictions } from './instances';
import { encodeOutputs, runModel, type ModelRunDeps } from './model-runs';
import { concatData } from './row-by-row';
import type { ServedVersion } from './served-versions';
import type { NamedTensors } from './types';
import { selectOutputs } from './validate-inputs';

/*
 * Predictions for many independent rows (a batch job's chunk), on the data plane's pieces. Each row is checked on its own,
 * so one bad row fails alone; the valid rows then run as one batched session.run when the
 * model's batch dimension is dynamic, else one by one.
 */

export type RowResult = { prediction: unknown } | { error: string };

/** A row's own error; a backend that fails is the chunk's (retried), not the row's. */
const rowError = (err: unknown): RowResult => {
  if (err instanceof DomainError && !isBackendFailure(err)) return { error: err.message };
  throw err;
};

function concatBatch(rows: NamedTensors[]): NamedTensors | undefined {
  const first = rows[0]!;
  const batched: NamedTensors = {};
  for (const name of Object.keys(first)) {
    const tensors = rows.map((r) => r[name]!);
    const rest = first[name]!.shape.slice(1).join(',');
    if (tensors.some((t) => t.shape.slice(1).join(',') !== rest)) return undefined;
    batched[name] = {
      ...first[name]!,
      shape: [rows.length, ...first[name]!.shape.slice(1)],
      data: concatData(tensors),
    };
  }
  return batched;
}

async function runOne(deps: ModelRunDeps, served: ServedVersion, inputs: NamedTensors, outputs: string[]) {
  const results = await runModel(deps, served, inputs, outputs);
  return outputsToPredictions(served, encodeOutputs(results, outputs), 1)[0];
}

export async function predictRows(
  deps: ModelRunDeps,
  served: ServedVersion,
  rows: unknown[],
  requestedOutputs: string[] | null,
): Promise<RowResult[]> {
  const outputs = selectOutputs(
    served.signature,
    requestedOutputs?.map((name) => ({ name })),
  );
  const results: RowResult[] = new Array(rows.length);
  const valid: { at: number; inputs: NamedTensors }[] = [];
  rows.forEach((row, at) => {
    try {
      valid.push({ at, inputs: instancesToTensors(served, [row], () => 'the row') });
    } catch (err) {
      results[at] = rowError(err);
    }
  });
  if (valid.length === 0) return results;
  const batchable = served.signature.inputs.every((s) => s.shape[0] === -1);
  const batched = batchable ? concatBatch(valid.map((v) => v.inputs)) : undefined;
  if (batched) {
    try {
      const encoded = encodeOutputs(await runModel(deps, served, batched, outputs), outputs);
      outputsToPredictions(served, encoded, valid.length).forEach((prediction, k) => {
        results[valid[k]!.at] = { prediction };
      });
      return results;
    } catch (err) {
      // One row the model rejects fails the whole batch: find it by running the rows alone.
      if (!(err instanceof DomainError) || isBackendFailure(err)) throw err;
    }
  }
  for (const { at, inputs } of valid) {
    try {
      results[at] = { prediction: await runOne(deps, served, inputs, outputs) };
    } catch (err) {
      results[at] = rowError(err);
    }
  }
  return results;
}
