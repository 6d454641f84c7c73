import {
  predictionKey,
  readPrediction,
  writePrediction,
  type CacheMode,
  type CacheStatus,
  type CacheTier,
  type PredictionCacheDeps,
} from '../cache/prediction-cache';
import type { Scope } from '../registry/types';
import { instancesToTensors, outputsToPredictions } from './instances';
import { encodeOutputs, isWarm, runModel, type ModelRunDeps } from './model-runs';
import { assignRoute } from './routing';
import { resolveTarget, type ServedVersion, type ServedVersionDeps } from './served-versions';
import { mirrorAfterResponse, type ShadowDeps, type ShadowReport } from './shadow';
import { Timing, type TimingEntry } from './timing';
import type { NamedTensors, RequestedOutput, RequestTensor, ResponseTensor } from './types';
import { selectOutputs, validateInputs } from './validate-inputs';

/*
 * The data plane: one function from a resolved request to a prediction, shared by the Open
 * Inference Protocol routes and the instances API (their adapters only translate), with batch
 * jobs on the same pieces (predict-rows.ts). Monitoring is fed here, from the result, once.
 */

/** What the caller sends: tensors (Open Inference Protocol) or JSON records (instances API). */
export type PredictInputs =
  { kind: 'tensors'; tensors: RequestTensor[]; outputs?: RequestedOutput[] } | { kind: 'records'; records: unknown[] };

export interface PredictRequest {
  scope: Pick<Scope, 'workspaceId'>;
  model: string;
  /** A number, `latest`, an alias; undefined for the model's default. */
  version: string | undefined;
  inputs: PredictInputs;
  cache: CacheMode;
  /** Modelflare-Routing-Key: keeps a caller on one route of a split alias. */
  routingKey?: string;
  requestId: string;
  /** When the request arrived (performance.now()), for the latency monitoring records. */
  startedAt: number;
}

/** The route of a split alias a request went through. */
export interface RouteTaken {
  alias: string;
  index: number;
  /** Whether a guard or steps watch the alias. */
  watched: boolean;
}

export interface Prediction {
  served: ServedVersion;
  /** Set when the reference was an alias that splits its traffic. */
  route?: RouteTaken;
  rows: number;
  /** The validated inputs (drift reads features from them). */
  tensors: NamedTensors;
  /** The `outputs` array as JSON text: what the prediction cache holds. */
  outputsJson: string;
  /** The outputs as the runtime made them, when the model ran (not on a cache hit). */
  outputs?: NamedTensors;
  cache: CacheStatus;
  tier?: CacheTier;
  timings: TimingEntry[];
  /** One answer per record (records requests only). */
  predictions?: unknown[];
  /** The id the prediction was logged under, when it was sampled. */
  predictionId?: string;
}

/** Where the data plane reports what happened: monitoring implements it. */
export interface PredictionObserver {
  /** A prediction was answered; returns the id it was logged under, when sampled. */
  answered(prediction: Prediction, request: PredictRequest): string | undefined;
  /** A request for a resolved version failed (bad input, a runtime error, an outage). */
  failed(served: ServedVersion, error: unknown, request: PredictRequest, route?: RouteTaken): void;
  /** A shadow run ended, after the response: its comparison, or its error. */
  shadowed(report: ShadowReport): void;
}

export interface DataPlaneDeps extends ServedVersionDeps, PredictionCacheDeps, ModelRunDeps, ShadowDeps {
  observer: PredictionObserver;
  /** Draws routes without a routing key, and which requests are mirrored. */
  random: () => number;
}

const rowsOf = (inputs: PredictInputs) =>
  inputs.kind === 'records' ? inputs.records.length : (inputs.tensors[0]?.shape[0] ?? 1);

export async function predict(deps: DataPlaneDeps, request: PredictRequest): Promise<Prediction> {
  const timing = new Timing();
  const target = await timing.measure('registry', () =>
    resolveTarget(deps, request.scope, request.model, request.version),
  );
  const { split } = target;
  const chosen = split ? assignRoute(split, request.routingKey, deps.random) : undefined;
  const served = chosen ? chosen.served : target.primary;
  const route = chosen && { alias: split!.alias, index: chosen.index, watched: split!.watched };
  try {
    const prediction = await predictServed(deps, served, request, timing);
    if (route) prediction.route = route;
    prediction.predictionId = deps.observer.answered(prediction, request);
    const shadow = split?.shadow;
    if (shadow && deps.random() * 100 < shadow.percent) {
      mirrorAfterResponse(deps, shadow.served, {
        alias: split.alias,
        primary: served,
        inputs:
          request.inputs.kind === 'tensors'
            ? { kind: 'tensors', raw: request.inputs.tensors, outputs: request.inputs.outputs }
            : request.inputs,
        decoded: prediction.tensors,
        rows: prediction.rows,
        outputsJson: prediction.outputsJson,
        primaryMs: performance.now() - request.startedAt,
      });
    }
    return prediction;
  } catch (err) {
    deps.observer.failed(served, err, request, route);
    throw err;
  }
}

async function predictServed(
  deps: DataPlaneDeps,
  served: ServedVersion,
  request: PredictRequest,
  timing: Timing,
): Promise<Prediction> {
  const { inputs } = request;
  const { tensors, outputs } = timing.measureSync('validate', () =>
    inputs.kind === 'tensors'
      ? {
          tensors: validateInputs(served.signature, inputs.tensors),
          outputs: selectOutputs(served.signature, inputs.outputs),
        }
      : { tensors: instancesToTensors(served, inputs.records), outputs: selectOutputs(served.signature, undefined) },
  );
  const rows = rowsOf(inputs);
  const answer = await cachedOrRun(deps, served, tensors, outputs, request.cache, timing);
  const prediction: Prediction = { served, rows, tensors, ...answer, timings: timing.entries };
  if (inputs.kind === 'records') {
    prediction.predictions = outputsToPredictions(
      served,
      JSON.parse(answer.outputsJson) as ResponseTensor[],
      inputs.records.length,
    );
  }
  return prediction;
}

/** The prediction cache when it has the answer, else the model (and the cache keeps it). */
async function cachedOrRun(
  deps: DataPlaneDeps,
  served: ServedVersion,
  tensors: NamedTensors,
  outputs: string[],
  mode: CacheMode,
  timing: Timing,
): Promise<{ outputsJson: string; outputs?: NamedTensors; cache: CacheStatus; tier?: CacheTier }> {
  const caching = served.cacheEnabled && mode !== 'bypass';
  const key = caching ? await predictionKey(served, tensors, outputs) : undefined;
  if (key && mode === 'use') {
    const hit = await timing.measure('cache', () =>
      readPrediction(deps, key, {
        shared: served.cacheShared,
        // A model not loaded here costs a load (or a backend call): a KV answer is then worth its full deadline.
        kvDeadlineMs: isWarm(deps, served)
          ? served.cacheSharedTimeoutMs
          : Math.max(served.cacheSharedTimeoutMs, deps.config.CACHE_READ_TIMEOUT_MS),
      }),
    );
    timing.describe('cache', hit?.tier ?? 'miss');
    if (hit) return { outputsJson: hit.value, cache: 'HIT', tier: hit.tier };
  }
  const results = await runModel(deps, served, tensors, outputs, timing);
  const outputsJson = JSON.stringify(encodeOutputs(results, outputs));
  if (key) writePrediction(deps, key, outputsJson, served.cacheTtlSeconds, served.cacheShared);
  return { outputsJson, outputs: results, cache: caching ? 'MISS' : 'BYPASS' };
}
