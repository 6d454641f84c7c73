import { workspaceOfKeyHash } from '../auth/api-keys';
import { credentialKnown, type AuthenticateDeps } from '../auth/authenticate';
import type { Principal } from '../auth/principal';
import { API_KEY_PREFIX, sha256Hex } from '../auth/secrets';
import { resolveIn } from '../registry/resolve';
import { servedKey, toTarget, type ServedTarget, type ServedVersionDeps } from './served-versions';

/*
 * An isolate that has not seen an API key would wait for D1 twice before predicting: for the
 * key, then, once the key has named its workspace, for the model. Asking for the model "in
 * the workspace of the key with this hash" lets both reads go at once. What the model read
 * finds is kept only after the key is accepted for this route and names that same workspace,
 * so nothing is learnt or served for a key that is refused.
 */

export interface LookAheadRequest {
  token: string;
  /** The workspace the request names in its header, if any (validated). */
  requested: string | undefined;
  model: string;
  version: string | undefined;
}

export interface LookAhead {
  /** Keeps what was found for the accepted caller; waits for the read if it is still going. */
  keep(principal: Principal): Promise<void>;
}

export type LookAheadDeps = ServedVersionDeps & Pick<AuthenticateDeps, 'credentials'>;

/** Starts the model read beside the credential's, when the credential will be read from D1. */
export function lookAhead(deps: LookAheadDeps, request: LookAheadRequest): LookAhead | undefined {
  const { token, requested, model, version } = request;
  // Sessions and the admin key name their workspace without a key row; known keys need no read.
  if (!token.startsWith(API_KEY_PREFIX) || credentialKnown(deps, token, requested)) return undefined;
  const remember = deps.servedVersions.resolutions.beginRead();
  const found = readAhead(deps, token, model, version).catch(() => undefined);
  return {
    async keep(principal) {
      const target = await found;
      if (target && target.primary.workspaceId === principal.workspaceId) {
        remember(servedKey(principal.workspaceId, model, version), target);
      }
    },
  };
}

async function readAhead(
  deps: ServedVersionDeps,
  token: string,
  model: string,
  version: string | undefined,
): Promise<ServedTarget | undefined> {
  const resolution = await resolveIn(deps, workspaceOfKeyHash(await sha256Hex(token)), model, version);
  // Misses are not kept: the data plane reads again and answers its own refusal.
  return resolution.found ? toTarget(resolution) : undefined;
}
