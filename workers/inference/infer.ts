import {
  predictionKey,
  readPrediction,
  writePrediction,
  type CacheMode,
  type CacheStatus,
} from '../cache/prediction-cache';
import type { Config } from '../core/config';
import type { ModelSession } from '../runtime/model-session';
import { loadOnnxModel, onOutOfMemory } from '../runtime/onnx-session';
import type { RegistryDeps, Scope } from '../registry/types';
import { observeLoad } from '../monitoring/observe';
import { readModelBytes } from './model-bytes';
import { resolveServedVersion, versionRef, type ServedVersion } from './served-versions';
import { SessionCache } from './session-cache';
import { encodeElements } from './tensor-json';
import type { Timing } from './timing';
import type { InferenceRequest, NamedTensors, ResponseTensor } from './types';
import { selectOutputs, validateInputs } from './validate-inputs';

/*
 * The data plane: the one path from a request to a prediction, shared by the Open Inference
 * Protocol routes, the instances API and batch jobs.
 */

export interface InferenceDeps extends RegistryDeps {
  kv: KVNamespace;
  config: Config;
  /** Work that may finish after the response (cache writes). */
  defer: (work: Promise<unknown>) => void;
}

export const sessions = new SessionCache(64 * 1024 * 1024);
onOutOfMemory(() => sessions.evictAll() > 0);

export function resolveServed(deps: InferenceDeps, scope: Scope, name: string, ref: string | undefined) {
  return resolveServedVersion(deps, scope, name, ref, deps.config.REGISTRY_CACHE_TTL_SECONDS * 1000);
}

/** Runs `use` with the served version's session, loading it into this isolate if needed. */
export function withSession<T>(
  deps: InferenceDeps,
  served: ServedVersion,
  timing: Timing | undefined,
  use: (session: ModelSession) => Promise<T>,
): Promise<T> {
  sessions.maxBytes = deps.config.SESSION_CACHE_BYTES;
  const load = async () => {
    const started = performance.now();
    const work = async () => loadOnnxModel(await readModelBytes({ bucket: deps.bucket, defer: deps.defer }, served));
    const loaded = await (timing ? timing.measure('load', work) : work());
    observeLoad(deps, versionRef(served), performance.now() - started);
    return loaded;
  };
  return sessions.with(served.versionId, served.sizeBytes, load, ({ session }) => use(session));
}

/** Runs the served version on validated inputs, loading it into this isolate if needed. */
export function runServed(
  deps: InferenceDeps,
  served: ServedVersion,
  inputs: NamedTensors,
  outputs: readonly string[],
  timing?: Timing,
): Promise<NamedTensors> {
  return withSession(deps, served, timing, (session) =>
    timing ? timing.measure('infer', () => session.run(inputs, outputs)) : session.run(inputs, outputs),
  );
}

export function encodeOutputs(results: NamedTensors, outputs: readonly string[]): ResponseTensor[] {
  return outputs.map((name) => {
    const tensor = results[name]!;
    return { name, datatype: tensor.datatype, shape: tensor.shape, data: encodeElements(tensor) };
  });
}

export interface InferResult {
  served: ServedVersion;
  /** The validated inputs (monitoring reads features from them). */
  inputs: NamedTensors;
  /** The `outputs` array as JSON text: what the prediction cache holds. */
  outputsJson: string;
  cache: CacheStatus;
}

/** Validates, answers from the prediction cache when it can, else runs the model and caches. */
export async function infer(
  deps: InferenceDeps,
  served: ServedVersion,
  request: InferenceRequest,
  mode: CacheMode,
  timing: Timing,
): Promise<InferResult> {
  const { inputs, outputs } = timing.measureSync('validate', () => ({
    inputs: validateInputs(served.signature, request.inputs),
    outputs: selectOutputs(served.signature, request.outputs),
  }));
  const caching = served.cacheEnabled && mode !== 'bypass';
  const key = caching ? await predictionKey(served, inputs, outputs) : undefined;
  if (key && mode === 'use') {
    const hit = await timing.measure('cache', () => readPrediction(deps.kv, key, deps.config.CACHE_READ_TIMEOUT_MS));
    if (hit !== null) return { served, inputs, outputsJson: hit, cache: 'HIT' };
  }
  const results = await runServed(deps, served, inputs, outputs, timing);
  const outputsJson = JSON.stringify(encodeOutputs(results, outputs));
  if (key) deps.defer(writePrediction(deps.kv, key, outputsJson, served.cacheTtlSeconds));
  return { served, inputs, outputsJson, cache: caching ? 'MISS' : 'BYPASS' };
}

/** Loads the version into this isolate without running it (the V2 ready probe). */
export function warm(deps: InferenceDeps, served: ServedVersion): Promise<void> {
  return withSession(deps, served, undefined, async () => undefined);
}
