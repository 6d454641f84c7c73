import { DomainError, invalidModel } from '../../core/errors';
import type { RemoteBackend, Signature } from '../../core/signature';
import type { BackendDeps } from './backends';
import { oipSignature, oipSpeaksBinary } from './oip-client';
import { remoteTarget } from './remote';
import { runnerTarget } from './runner';

/*
 * What a backend says about a model before it becomes a version: the signature the platform
 * then validates every request against, read from the backend's own model metadata.
 */

/** A remote's signature and whether it speaks binary tensor data; 422 with its answer otherwise. */
export async function describeRemote(
  deps: BackendDeps,
  remote: Omit<RemoteBackend, 'credential' | 'binary'>,
  credential: string | null,
): Promise<{ signature: Signature; binary: boolean }> {
  const target = remoteTarget(deps.config, { ...remote, credential: null, binary: false }, { plain: credential });
  try {
    const signature = await oipSignature(deps, target);
    const binary = await oipSpeaksBinary(deps, target).catch(() => false);
    return { signature, binary };
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    throw invalidModel(`${err.message}; nothing was registered`, {
      code: 'remote_unreadable',
      details: { url: remote.url, model: remote.model },
    });
  }
}

/**
 * The runner loads a stored file and says its signature. A file it cannot load is refused
 * with 422 and onnxruntime's reason; a runner that does not answer is a 502/503/504 as for any call.
 */
export async function describeOnRunner(
  deps: BackendDeps,
  versionId: string,
  file: { key: string; sha256: string; sizeBytes: number },
): Promise<Signature> {
  const target = runnerTarget(deps, versionId, {
    artifactKey: file.key,
    sha256: file.sha256,
    sizeBytes: file.sizeBytes,
  });
  try {
    return await oipSignature(deps, target);
  } catch (err) {
    if (err instanceof DomainError && err.kind === 'invalid_argument') {
      throw invalidModel(`the runner cannot load this model: ${String(err.details?.answer ?? err.message)}`);
    }
    throw err;
  }
}
