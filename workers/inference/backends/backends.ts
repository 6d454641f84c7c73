import { DomainError } from '../../core/errors';
import type { ServedVersion } from '../served-versions';
import type { NamedTensors } from '../types';
import type { CircuitBreakers } from './circuit-breaker';
import { oipInfer, oipReady, type OipTarget } from './oip-client';
import { remoteTarget } from './remote';
import { runnerTarget, type RunnerDeps } from './runner';

/*
 * The seam between the data plane and what runs a version outside the isolate. Everything
 * before it (resolution, validation against the signature, the prediction cache) and after it
 * (encoding, monitoring, drift, batch results) is the same whatever the backend.
 */

export interface BackendDeps extends RunnerDeps {
  breakers: CircuitBreakers;
}

/** The Open Inference Protocol target serving a runner or remote version. */
export function targetOf(deps: BackendDeps, served: ServedVersion): OipTarget {
  if (served.backend === 'remote') return remoteTarget(deps.config, served.remote!, { versionId: served.versionId });
  return runnerTarget(deps, served.versionId, served.file);
}

/** Runs a runner or remote version on validated inputs. */
export function runOnBackend(
  deps: BackendDeps,
  served: ServedVersion,
  inputs: NamedTensors,
  outputs: readonly string[],
): Promise<NamedTensors> {
  return oipInfer(deps, targetOf(deps, served), inputs, outputs);
}

/** Resolves once the backend can serve the version (the runner loads it first if it must). */
export function backendReady(deps: BackendDeps, served: ServedVersion): Promise<void> {
  return oipReady(deps, targetOf(deps, served));
}

const BACKEND_FAILURES = new Set(['backend_error', 'backend_unavailable', 'backend_timeout', 'runner_not_configured']);

/**
 * A failure of the backend rather than of the request: passing, so a batch chunk that meets one
 * is retried with backoff instead of failing its rows.
 */
export const isBackendFailure = (err: unknown): boolean => err instanceof DomainError && BACKEND_FAILURES.has(err.code);
