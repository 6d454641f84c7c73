import type { ChangeFeed } from '../core/change-feed';
import type { Config } from '../core/config';
import { DomainError, notFound } from '../core/errors';
import { RefreshingCache, type RefreshHooks } from '../core/refreshing-cache';
import type { BackendKind, RemoteBackend, Signature } from '../core/signature';
import { resolveReference, type Resolution, type ResolvedSplit } from '../registry/resolve';
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

/** A route of a split alias, as serving uses it. */
export interface ServedRoute {
  /** Its index among the alias's routes (the Modelflare-Route header). */
  index: number;
  served: ServedVersion;
  weight: number;
}

/** An alias that splits its traffic, as serving uses it (inference/routing.ts assigns). */
export interface ServedSplit {
  alias: string;
  /** Whether a guard or steps watch it. */
  watched: boolean;
  /** Routes with weight > 0: only these are ever assigned. */
  routes: ServedRoute[];
  totalWeight: number;
  shadow?: { served: ServedVersion; percent: number };
}

/** What a reference resolves to: one version, or an alias's routes (and shadow) around it. */
export interface ServedTarget {
  /** The version served without a split; a split alias's first route. */
  primary: ServedVersion;
  split?: ServedSplit;
}

function toSplit(model: ModelRow, split: ResolvedSplit): ServedSplit {
  const routes = split.routes
    .filter((route) => route.weight > 0)
    .map((route) => ({ index: route.index, served: toServed(model, route.version), weight: route.weight }));
  return {
    alias: split.alias,
    watched: split.watched,
    routes,
    totalWeight: routes.reduce((sum, route) => sum + route.weight, 0),
    ...(split.shadow
      ? { shadow: { served: toServed(model, split.shadow.version), percent: split.shadow.percent } }
      : {}),
  };
}

export function toTarget(resolution: Resolution & { found: true }): ServedTarget {
  const primary = toServed(resolution.model, resolution.version);
  const split = resolution.split && toSplit(resolution.model, resolution.split);
  // A split whose routes all weigh nothing (none can) would serve nothing: the first route serves.
  return split && split.routes.length > 0 ? { primary, split } : { primary };
}

/**
 * The isolate's copies of resolutions (workspace, model, reference -> version or routes),
 * served while they refresh in the background. Changes made through this isolate drop them at
 * once.
 */
export class ServedVersionCache {
  readonly resolutions: RefreshingCache<ServedTarget>;

  constructor(changes: ChangeFeed, now: () => number = () => Date.now()) {
    this.resolutions = new RefreshingCache<ServedTarget>(4096, (err) => err instanceof DomainError, now);
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

/**
 * What a request names: a number, an alias, `latest`, or none (production, else latest), with
 * the alias's routes when it splits its traffic.
 */
export function resolveTarget(
  deps: ServedVersionDeps,
  scope: Pick<Scope, 'workspaceId'>,
  name: string,
  ref: string | undefined,
): Promise<ServedTarget> {
  return deps.servedVersions.resolutions.get(
    servedKey(scope.workspaceId, name, ref),
    {
      refreshAfterMs: deps.config.REGISTRY_CACHE_TTL_SECONDS * 1000,
      staleLimitMs: deps.config.CACHE_STALE_LIMIT_SECONDS * 1000,
    },
    async () => targetOrRefusal(await resolveReference(deps, scope, name, ref), name, ref),
    deps,
  );
}

/**
 * The one version a request names, for what serves a single version (batch jobs pin it,
 * monitoring reads it): a split alias's first route.
 */
export async function resolveServed(
  deps: ServedVersionDeps,
  scope: Pick<Scope, 'workspaceId'>,
  name: string,
  ref: string | undefined,
): Promise<ServedVersion> {
  return (await resolveTarget(deps, scope, name, ref)).primary;
}

export function targetOrRefusal(resolution: Resolution, name: string, ref: string | undefined): ServedTarget {
  return toTarget(refuseMiss(resolution, name, ref));
}

/** The resolution, or the error that tells the caller what is missing. */
export function servedOrRefusal(resolution: Resolution, name: string, ref: string | undefined): ServedVersion {
  const found = refuseMiss(resolution, name, ref);
  return toServed(found.model, found.version);
}

function refuseMiss(resolution: Resolution, name: string, ref: string | undefined): Resolution & { found: true } {
  if (resolution.found) return resolution;
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
