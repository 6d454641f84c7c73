import type { Logger } from '../core/logger';
import type { LoadedModel, ModelSession } from '../runtime/model-session';
import { loadOnnxModel } from '../runtime/onnx-session';
import { ortRuntime } from '../runtime/ort-env';
import { readModelBytes } from './model-bytes';
import { rowsToRunAlone, runRowByRow } from './row-by-row';
import type { ServedVersion } from './served-versions';
import type { SessionCache } from './session-cache';
import { encodeElements } from './tensor-json';
import type { Timing } from './timing';
import type { NamedTensors, ResponseTensor } from './types';

/*
 * Running a served version: its session from this isolate's cache, loaded on first use. A cold
 * load reads the file (this location's Cache API, else R2) while onnxruntime starts, rather than
 * one after the other.
 */

export interface ModelRunDeps {
  sessions: SessionCache;
  bucket: R2Bucket;
  logger: Logger;
  defer: (work: Promise<unknown>) => void;
  /** Told how long each cold load took. */
  onLoad?: (served: ServedVersion, ms: number) => void;
}

async function load(deps: ModelRunDeps, served: ServedVersion): Promise<LoadedModel> {
  const started = performance.now();
  const [bytes] = await Promise.all([readModelBytes(deps, served.file), ortRuntime()]);
  const loaded = await loadOnnxModel(bytes);
  deps.onLoad?.(served, performance.now() - started);
  return loaded;
}

/** Runs `use` with the served version's session, loading it into this isolate if needed. */
export function withSession<T>(
  deps: ModelRunDeps,
  served: ServedVersion,
  timing: Timing | undefined,
  use: (session: ModelSession) => Promise<T>,
): Promise<T> {
  const work = () => load(deps, served);
  return deps.sessions.with(
    served.versionId,
    served.file.sizeBytes,
    () => (timing ? timing.measure('load', work) : work()),
    ({ session }) => use(session),
  );
}

/** Runs the served version on validated inputs (row by row when its batch is fixed at 1). */
export function runModel(
  deps: ModelRunDeps,
  served: ServedVersion,
  inputs: NamedTensors,
  outputs: readonly string[],
  timing?: Timing,
): Promise<NamedTensors> {
  return withSession(deps, served, timing, (session) => {
    const rows = rowsToRunAlone(served.signature, inputs);
    const run = (feeds: NamedTensors) => session.run(feeds, outputs);
    const work = () => (rows > 0 ? runRowByRow(run, inputs, rows) : run(inputs));
    return timing ? timing.measure('infer', work) : work();
  });
}

export function encodeOutputs(results: NamedTensors, outputs: readonly string[]): ResponseTensor[] {
  return outputs.map((name) => {
    const tensor = results[name]!;
    return { name, datatype: tensor.datatype, shape: tensor.shape, data: encodeElements(tensor) };
  });
}
