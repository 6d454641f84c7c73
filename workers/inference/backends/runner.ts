import type { Config } from '../../core/config';
import { unavailable } from '../../core/errors';
import type { ModelFile } from '../model-bytes';
import type { OipTarget } from './oip-client';

/*
 * The platform's native runner (runner/: onnxruntime-node behind the Open Inference Protocol):
 * the model's name there is the version id, and every call says which R2 file holds it, so a
 * runner that has not loaded the model fetches it (once, however many calls wait) and serves.
 * A version always lands on the same instance (rendezvous hashing over RUNNER_INSTANCES), where
 * it stays loaded.
 */

/** Reaches runner instances: a URL (npm start, a runner outside Cloudflare), or the container binding. */
export interface RunnerGateway {
  fetch(instance: string, path: string, init: RequestInit): Promise<Response>;
}

export interface RunnerDeps {
  config: Config;
  runner: RunnerGateway | undefined;
}

/** Headers that tell the runner where the model file is. */
export const MODEL_SOURCE_HEADERS = {
  key: 'Modelflare-Model-Source',
  sha256: 'Modelflare-Model-Sha256',
  size: 'Modelflare-Model-Size',
} as const;

/** FNV-1a: a stable 32-bit hash, the same in every isolate. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The instance a version is served by: highest hash of (instance, version) wins, so changing
 * the number of instances moves only the versions of the instances added or removed.
 */
export function runnerInstanceFor(versionId: string, instances: number): string {
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < instances; i++) {
    const score = fnv1a(`runner-${i}:${versionId}`);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return `runner-${best}`;
}

export function runnerNotConfigured() {
  return unavailable(
    'this version is served by the native runner, which is not configured here: set RUNNER_URL (a runner you run) or deploy with the RUNNER container binding (see README: Deploying, the runner)',
    { code: 'runner_not_configured' },
  );
}

/** The runner as an Open Inference Protocol target for one version's file. */
export function runnerTarget(deps: RunnerDeps, versionId: string, file: ModelFile & { sizeBytes: number }): OipTarget {
  const gateway = deps.runner;
  if (!gateway) throw runnerNotConfigured();
  const instance = runnerInstanceFor(versionId, deps.config.RUNNER_INSTANCES);
  const source = {
    [MODEL_SOURCE_HEADERS.key]: file.artifactKey,
    [MODEL_SOURCE_HEADERS.sha256]: file.sha256,
    [MODEL_SOURCE_HEADERS.size]: String(file.sizeBytes),
  };
  return {
    name: `the runner (${instance})`,
    breakerKey: `runner:${instance}`,
    modelPath: `/v2/models/${versionId}`,
    timeoutMs: deps.config.RUNNER_TIMEOUT_MS,
    binary: true,
    send: (path, init) =>
      gateway.fetch(instance, path, { ...init, headers: { ...(init.headers as Record<string, string>), ...source } }),
  };
}
