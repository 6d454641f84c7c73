import type { ChangeFeed } from '../core/change-feed';
import type { Config } from '../core/config';
import { DomainError, notFound } from '../core/errors';
import { RefreshingCache, type RefreshHooks } from '../core/refreshing-cache';
import type { BackendKind, RemoteBackend, Signature } from '../core/signature';
import { resolveReference, type Resolution } from '../registry/resolve';
import type { ModelRow, RegistryDeps, Scope, Task, VersionRow } from '../registry/types';
import { getVersionById } from '../registry/versions';
import type { ModelFile } from './model-bytes';

/** What serving needs to know about a model version; immutable but for the model's settings. */
export interface ServedVersion {
  workspaceId: string;
  modelId: string;
  modelName: string;
  task: Task;
  cacheEnabled: boolean;
  cacheTtlSeconds: number;
  /** Whether predictions are kept in KV too, and how long a prediction waits for a KV read. */
  cacheShared: boolean;
  cacheSharedTimeoutMs: number;
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
  /** The file a session is loaded from: the serving graph the import wrote, else the artifact. */
  file: ModelFile & { sizeBytes: number };
  /** A ZipMap the import made a tensor: its output, and the labels its columns follow. */
  zipmap: { output: string; labels: string[] } | null;
  /** An input the import made from a DictVectorizer's map: records may leave its features out. */
  sparseInput: string | null;
  /** What runs it: this isolate, the native runner, or a remote server (`remote` then set). */
  backend: BackendKind;
  remote: RemoteBackend | null;
}

export function toServed(model: ModelRow, version: VersionRow): ServedVersion {
  return {
    workspaceId: model.workspaceId,
    modelId: model.id,
    modelName: model.name,
    task: model.task,
    cacheEnabled: model.cacheEnabled,
    cacheTtlSeconds: model.cacheTtlSeconds,
    cacheShared: model.cacheShared,
    cacheSharedTimeoutMs: model.cacheSharedTimeoutMs,
    logSampleRate: model.logSampleRate,
    versionId: version.id,
    version: version.version,
    sha256: version.sha256,
    sizeBytes: version.sizeBytes,
    artifactKey: version.artifactKey,
    signature: version.signature,
    featureNames: version.featureNames ?? model.featureNames,
    classLabels: version.classLabels ?? model.classLabels,
    backend: version.backend,
    remote: version.remote,
    ...servingOf(version),
  };
}

function servingOf(version: VersionRow): Pick<ServedVersion, 'file' | 'zipmap' | 'sparseInput'> {
  const { serving } = version;
  const rewrites = serving?.rewrites ?? [];
  const zipmap = rewrites.find((r) => r.kind === 'zipmap');
  const vectorizer = rewrites.find((r) => r.kind === 'dict_vectorizer');
  return {
    file: serving
      ? { sha256: serving.sha256, artifactKey: serving.key, sizeBytes: serving.sizeBytes }
      : { sha256: version.sha256, artifactKey: version.artifactKey, sizeBytes: version.sizeBytes },
    zipmap: zipmap ? { output: zipmap.output, labels: zipmap.labels } : null,
    sparseInput: vectorizer?.input ?? null,
  };
}

/**
 * The isolate's copies of resolutions (workspace, model, reference -> version), served while
 * they refresh in the background. Changes made through this isolate drop them at once.
 */
export class ServedVersionCache {
  readonly resolutions: RefreshingCache<ServedVersion>;

  constructor(changes: ChangeFeed, now: () => number = () => Date.now()) {
    this.resolutions = new RefreshingCache<ServedVersion>(4096, (err) => err instanceof DomainError, now);
    changes.onModelChange((workspaceId, name) => {
      const prefix = `${workspaceId}\0${name}\0`;
      this.resolutions.forget((key) => key.startsWith(prefix));
    });
  }
}

export interface ServedVersionDeps extends RefreshHooks {
  db: RegistryDeps['db'];
  config: Config;
  servedVersions: ServedVersionCache;
}

export const servedKey = (workspaceId: string, name: string, ref: string | undefined) =>
  `${workspaceId}\0${name}\0${ref ?? ''}`;

/** The version a request names: a number, an alias, `latest`, or none (production, else latest). */
export function resolveServed(
  deps: ServedVersionDeps,
  scope: Pick<Scope, 'workspaceId'>,
  name: string,
  ref: string | undefined,
): Promise<ServedVersion> {
  return deps.servedVersions.resolutions.get(
    servedKey(scope.workspaceId, name, ref),
    {
      refreshAfterMs: deps.config.REGISTRY_CACHE_TTL_SECONDS * 1000,
      staleLimitMs: deps.config.CACHE_STALE_LIMIT_SECONDS * 1000,
    },
    async () => servedOrRefusal(await resolveReference(deps, scope, name, ref), name, ref),
    deps,
  );
}

/** The resolution, or the error that tells the caller what is missing. */
export function servedOrRefusal(resolution: Resolution, name: string, ref: string | undefined): ServedVersion {
  if (resolution.found) return toServed(resolution.model, resolution.version);
  switch (resolution.miss) {
    case 'model':
      throw notFound(`model '${name}' not found`, { code: 'model_not_found' });
    case 'model_archived':
      throw notFound(`model '${name}' is archived`, { code: 'model_archived' });
    case 'version_archived':
      throw notFound(`version ${resolution.version.version} of model '${name}' is archived`, {
        code: 'version_archived',
      });
    case 'version': {
      const what =
        ref === undefined || ref === 'latest'
          ? 'a version that is not archived'
          : /^\d+$/.test(ref)
            ? `version ${ref}`
            : `alias '${ref}'`;
      throw notFound(`model '${name}' has no ${what}`, { code: 'version_not_found' });
    }
  }
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

/** What monitoring files a version's numbers under. */
export const versionRef = (served: ServedVersion) => ({
  workspaceId: served.workspaceId,
  model: served.modelName,
  version: served.version,
});
