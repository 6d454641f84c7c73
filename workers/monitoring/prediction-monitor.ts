import { DomainError } from '../core/errors';
import type { Prediction, PredictionObserver, PredictRequest, RouteTaken } from '../inference/data-plane';
import { outputsArePerRow, outputsToPredictions, predictedValue } from '../inference/instances';
import { versionRef, type ServedVersion } from '../inference/served-versions';
import { encodeElements } from '../inference/tensor-json';
import type { RequestTensor, ResponseTensor } from '../inference/types';
import type { DriftCounts } from './drift/observe-features';
import type { ObserveDeps } from './observe';
import { maybeLogPrediction } from './predictions';
import type { RouteMetricsDeps } from './route-metrics';

/*
 * Everything monitoring takes from a prediction, fed by the data plane in one place: the
 * version's counts and latency, its drift histograms, and the sampled prediction log (whose id
 * the caller gets back as X-Prediction-Id). All of it is written after the response.
 */

export interface MonitorDeps extends ObserveDeps, RouteMetricsDeps {
  drift: DriftCounts;
}

/** A split alias's route, as its counts are filed. */
const routeRef = (served: ServedVersion, route: RouteTaken) => ({
  workspaceId: served.workspaceId,
  model: served.modelName,
  alias: route.alias,
  route: route.index,
  version: served.version,
});

/** A failure the caller caused (4xx) or the platform did (5xx: an outage, a bug). */
const failureOf = (err: unknown): 'client' | 'server' =>
  err instanceof DomainError && err.kind !== 'unavailable' && err.kind !== 'internal' ? 'client' : 'server';

export function predictionObserver(deps: MonitorDeps): PredictionObserver {
  return {
    answered(prediction: Prediction, request: PredictRequest): string | undefined {
      const { served, rows, route } = prediction;
      const latencyMs = performance.now() - request.startedAt;
      deps.metrics.inference(deps, versionRef(served), { latencyMs, rows, cache: prediction.cache });
      if (route) {
        deps.routeMetrics.served(deps, routeRef(served, route), route.watched, {
          latencyMs,
          rows,
          cache: prediction.cache,
        });
      }
      deps.drift.observe(deps, served, prediction.tensors, rows);
      return maybeLogPrediction(deps, served.logSampleRate, () => ({
        workspaceId: served.workspaceId,
        model: served.modelName,
        version: served.version,
        requestId: request.requestId,
        inputs: JSON.stringify(
          request.inputs.kind === 'tensors'
            ? { inputs: request.inputs.tensors.map((t) => loggedInput(t, prediction)) }
            : { instances: request.inputs.records },
        ),
        outputs: prediction.outputsJson,
        predicted: predictedValues(prediction),
        rows,
        cache: prediction.cache,
      }));
    },
    failed(served: ServedVersion, error: unknown, request: PredictRequest, route?: RouteTaken): void {
      const outcome = { failed: failureOf(error), latencyMs: performance.now() - request.startedAt, rows: 0 };
      deps.metrics.inference(deps, versionRef(served), outcome);
      if (route) deps.routeMetrics.served(deps, routeRef(served, route), route.watched, outcome);
    },
    shadowed(report): void {
      deps.routeMetrics.shadowed(deps, report);
    },
  };
}

/** An input as the log keeps it: binary tensor data is written as the JSON data it decoded to. */
function loggedInput(input: RequestTensor, prediction: Prediction): RequestTensor {
  if (!input.binary) return input;
  const { binary: _bytes, ...described } = input;
  return { ...described, data: encodeElements(prediction.tensors[input.name]!) };
}

/** What each row predicted, as feedback is compared with; null when outputs are not per row. */
function predictedValues(prediction: Prediction): unknown[] | null {
  if (prediction.predictions) return prediction.predictions.map(predictedValue);
  const outputs = JSON.parse(prediction.outputsJson) as ResponseTensor[];
  // Outputs not batched by row: the log keeps the raw outputs only.
  if (!outputsArePerRow(outputs, prediction.rows)) return null;
  return outputsToPredictions(prediction.served, outputs, prediction.rows).map(predictedValue);
}
