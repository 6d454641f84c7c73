import type { Context } from 'hono';
import type { InferResult } from '../inference/infer';
import { outputsToPredictions, predictedValue } from '../inference/instances';
import type { ResponseTensor } from '../inference/types';
import { maybeLogPrediction } from '../monitoring/predictions';
import { observeFeatures } from '../monitoring/drift/observe-features';
import type { AppEnv } from './app-env';

/**
 * After a prediction: feeds the drift histograms and logs it when sampled; the log's id goes
 * back in `X-Prediction-Id` (the handle for feedback). Both write after the response.
 */
export function monitorPrediction(
  c: Context<AppEnv>,
  result: InferResult,
  request: unknown,
  rows: number,
  predictions?: unknown[],
): void {
  const deps = c.get('deps');
  const { served } = result;
  observeFeatures(deps, served, result.inputs, rows);
  const id = maybeLogPrediction(deps, served.logSampleRate, () => ({
    workspaceId: served.workspaceId,
    model: served.modelName,
    version: served.version,
    requestId: c.get('requestId'),
    inputs: JSON.stringify(request),
    outputs: result.outputsJson,
    predicted: predictedValues(result, rows, predictions),
    rows,
    cache: result.cache,
  }));
  if (id) c.header('X-Prediction-Id', id);
}

function predictedValues(result: InferResult, rows: number, predictions?: unknown[]): unknown[] | null {
  try {
    const all =
      predictions ?? outputsToPredictions(result.served, JSON.parse(result.outputsJson) as ResponseTensor[], rows);
    return all.map(predictedValue);
  } catch {
    return null; // outputs not batched by row: the log keeps the raw outputs only
  }
}
