import { DomainError } from '../core/errors';
import { modelChanges } from '../core/change-events';
import type { Signature } from '../core/signature';
import { TtlCache } from '../core/ttl-cache';
import { requireModel } from '../registry/models';
import type { ModelRow, RegistryDeps, Scope, Task, VersionRow } from '../registry/types';
import { getVersionById, resolveVersion } from '../registry/versions';

/** What serving needs to know about a model version; immutable but for the model's settings. */
export interface ServedVersion {
  workspaceId: string;
  modelId: string;
  modelName: string;
  task: Task;
  cacheEnabled: boolean;
  cacheTtlSeconds: number;
  /** Share of predictions to log, 0 to 1. */
  logSampleRate: number;
  versionId: string;
  version: number;
  sha256: string;
  sizeBytes: number;
  artifactKey: string;
  signature: Signature;
  featureNames: string[] | null;
  classLabels: string[] | null;
}

/** The alias a request without a version means, when the model has it; else `latest`. */
export const DEFAULT_ALIAS = 'production';

/*
 * Resolutions are kept per isolate for a short time so a warm prediction makes no D1 query.
 * Changes made through this isolate drop its entries at once; elsewhere an alias move or an
 * archive takes effect within the TTL.
 */
const resolved = new TtlCache<ServedVersion>(4096);

modelChanges.on((workspaceId, name) => {
  const prefix = `${workspaceId}\0${name}\0`;
  resolved.deleteWhere((key) => key.startsWith(prefix));
});

function toServed(model: ModelRow, version: VersionRow): ServedVersion {
  return {
    workspaceId: model.workspaceId,
    modelId: model.id,
    modelName: model.name,
    task: model.task,
    cacheEnabled: model.cacheEnabled,
    cacheTtlSeconds: model.cacheTtlSeconds,
    logSampleRate: model.logSampleRate,
    versionId: version.id,
    version: version.version,
    sha256: version.sha256,
    sizeBytes: version.sizeBytes,
    artifactKey: version.artifactKey,
    signature: version.signature,
    featureNames: version.featureNames ?? model.featureNames,
    classLabels: version.classLabels ?? model.classLabels,
  };
}

async function resolveUncached(deps: RegistryDeps, scope: Scope, name: string, ref: string | undefined) {
  const model = await requireModel(deps, scope, name, { allowArchived: false });
  let version;
  if (ref !== undefined) {
    version = await resolveVersion(deps, model, ref, { allowArchived: false });
  } else {
    try {
      version = await resolveVersion(deps, model, DEFAULT_ALIAS);
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== 'version_not_found') throw err;
      version = await resolveVersion(deps, model, 'latest');
    }
  }
  return toServed(model, version);
}

/** A version pinned by id (a batch job's), served even if it was archived since. */
export async function resolveServedById(
  deps: Pick<RegistryDeps, 'db'>,
  scope: Scope,
  versionId: string,
): Promise<ServedVersion> {
  const { model, version } = await getVersionById(deps, scope, versionId);
  return toServed(model, version);
}

/** The version a request names: a number, an alias, `latest`, or none (production, else latest). */
export function resolveServedVersion(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  ref: string | undefined,
  ttlMs: number,
): Promise<ServedVersion> {
  const key = `${scope.workspaceId}\0${name}\0${ref ?? ''}`;
  return resolved.get(key, ttlMs, () => resolveUncached(deps, scope, name, ref));
}

/** What monitoring files a version's numbers under. */
export const versionRef = (served: ServedVersion) => ({
  workspaceId: served.workspaceId,
  model: served.modelName,
  version: served.version,
});
