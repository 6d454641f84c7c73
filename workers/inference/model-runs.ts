import type { Logger } from '../core/logger';
import type { LoadedModel, ModelSession } from '../runtime/model-session';
import { loadOnnxModel } from '../runtime/onnx-session';
import { ortRuntime } from '../runtime/ort-env';
import { backendReady, runOnBackend, type BackendDeps } from './backends/backends';
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

export interface ModelRunDeps extends BackendDeps {
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

/**
 * Runs the served version on validated inputs (row by row when its batch is fixed at 1): in
 * this isolate's session, or on the runner or remote server that serves it.
 */
export function runModel(
  deps: ModelRunDeps,
  served: ServedVersion,
  inputs: NamedTensors,
  outputs: readonly string[],
  timing?: Timing,
): Promise<NamedTensors> {
  const runWith = (run: (feeds: NamedTensors) => Promise<NamedTensors>) => {
    const rows = rowsToRunAlone(served.signature, inputs);
    const work = () => (rows > 0 ? runRowByRow(run, inputs, rows) : run(inputs));
    return timing ? timing.measure('infer', work) : work();
  };
  if (served.backend !== 'isolate') return runWith((feeds) => runOnBackend(deps, served, feeds, outputs));
  return withSession(deps, served, timing, (session) => runWith((feeds) => session.run(feeds, outputs)));
}

/** Resolves once the version can serve: loaded in this isolate, or ready on its backend. */
export async function prepareModel(deps: ModelRunDeps, served: ServedVersion): Promise<void> {
  if (served.backend !== 'isolate') return backendReady(deps, served);
  await withSession(deps, served, undefined, async () => undefined);
}

/** Whether a run would start at once: a session loaded here (a backend's state is not known). */
export const isWarm = (deps: ModelRunDeps, served: ServedVersion) =>
  served.backend === 'isolate' && deps.sessions.isLoaded(served.versionId);

export function encodeOutputs(results: NamedTensors, outputs: readonly string[]): ResponseTensor[] {
  return outputs.map((name) => {
    const tensor = results[name]!;
    return { name, datatype: tensor.datatype, shape: tensor.shape, data: encodeElements(tensor) };
  });
}
