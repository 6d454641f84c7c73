import { sealSecret, secretKeyring, type SecretKeyBytes } from '../core/secret-box';
import type { RemoteBackend, Signature } from '../core/signature';
import { newId } from '../core/ids';
import { insertVersion, refuseDuplicate, requireModelForUpload, type VersionFields } from './versions';
import type { ModelVersion, RegistryDeps, Scope } from './types';

/*
 * A version served by an Open Inference Protocol server the team runs: no file, a signature
 * read from the remote's metadata (by the caller, before this), and the remote's address. Its
 * identity (URL, model, version) stands in for the file's sha256, so the same remote model is
 * registered once per model.
 */

export interface RemoteRegistration {
  remote: Omit<RemoteBackend, 'credential'>;
  /** The platform's credential for the remote, in the clear: sealed for the new row here. */
  credential: string | null;
  signature: Signature;
}

async function identity(remote: RemoteRegistration['remote']): Promise<string> {
  const text = `remote\n${remote.url}\n${remote.model}\n${remote.version ?? ''}`;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function createRemoteVersion(
  deps: RegistryDeps & {
    config: { SECRETS_ENCRYPTION_KEY?: SecretKeyBytes | undefined; SECRETS_PREVIOUS_KEYS: SecretKeyBytes[] };
  },
  scope: Scope,
  name: string,
  registration: RemoteRegistration,
  fields: VersionFields,
  credentialContext: (versionId: string) => string,
): Promise<ModelVersion> {
  const existing = await requireModelForUpload(deps, scope, name);
  const sha256 = await identity(registration.remote);
  if (existing) await refuseDuplicate(deps, existing, sha256);
  const id = newId('ver');
  const credential =
    registration.credential === null
      ? null
      : await sealSecret(await secretKeyring(deps.config), registration.credential, credentialContext(id));
  const row = await insertVersion(deps, scope, name, {
    id,
    key: '',
    sha256,
    bytes: 0,
    signature: registration.signature,
    header: { irVersion: null, producerName: null, producerVersion: null, opsets: [] },
    serving: null,
    fields,
    backend: 'remote',
    remote: { ...registration.remote, credential },
  });
  deps.changes.modelChanged(scope.workspaceId, name);
  return { ...row, modelName: name, aliases: [] };
}
