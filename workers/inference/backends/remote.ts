import type { Config } from '../../core/config';
import { openSecret, secretKeyring } from '../../core/secret-box';
import type { RemoteBackend } from '../../core/signature';
import type { OipTarget } from './oip-client';

/*
 * A remote Open Inference Protocol server a team registered for a version. It gets the
 * platform's own credential for it (stored encrypted for the version's row), never the caller's:
 * the request to it is built here from the tensors alone.
 */

export const remoteCredentialContext = (versionId: string) => `model_versions:${versionId}`;

const encodePath = (segment: string) => encodeURIComponent(segment);

export function remoteModelPath(remote: Pick<RemoteBackend, 'model' | 'version'>): string {
  const model = `/v2/models/${encodePath(remote.model)}`;
  return remote.version === null ? model : `${model}/versions/${encodePath(remote.version)}`;
}

export function remoteName(remote: Pick<RemoteBackend, 'url' | 'model' | 'version'>): string {
  return `remote backend ${remote.url} model '${remote.model}'${remote.version === null ? '' : ` version '${remote.version}'`}`;
}

/** Headers carrying the platform's credential for the remote (none without one). */
export function credentialHeaders(remote: Pick<RemoteBackend, 'credentialHeader'>, credential: string | null) {
  if (credential === null) return {};
  return remote.credentialHeader
    ? { [remote.credentialHeader]: credential }
    : { Authorization: `Bearer ${credential}` };
}

/**
 * The remote as a target. `credential` is the plaintext at registration (not stored yet);
 * afterwards it is opened from the version's row when a call is sent.
 */
export function remoteTarget(
  config: Config,
  remote: RemoteBackend,
  credential: { plain: string | null } | { versionId: string },
): OipTarget {
  const base = remote.url.replace(/\/+$/, '');
  const open = async (): Promise<string | null> => {
    if ('plain' in credential) return credential.plain;
    if (remote.credential === null) return null;
    const keyring = await secretKeyring(config);
    return openSecret(keyring, remote.credential, remoteCredentialContext(credential.versionId));
  };
  return {
    name: remoteName(remote),
    breakerKey: `remote:${base}`,
    modelPath: remoteModelPath(remote),
    timeoutMs: remote.timeoutMs ?? config.REMOTE_TIMEOUT_MS,
    binary: remote.binary,
    send: async (path, init) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...credentialHeaders(remote, await open()) },
        redirect: 'manual',
      }),
  };
}
