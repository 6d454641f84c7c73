import { and, asc, desc, eq, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { conflict, invalidModel, notFound } from '../core/errors';
import type { BackendKind, OnnxHeader, RemoteBackend, Rewrite, ServingGraph, Signature } from '../core/signature';
import { errorFields } from '../core/logger';
import { artifactMissing } from './artifacts';
import { newId } from '../core/ids';
import type { LoadedModel } from '../runtime/model-session';
import { importModel } from '../runtime/import/import-model';
import { artifactKey, servingKey } from '../storage/r2-keys';
import { isUniqueViolation } from '../storage/db';
import { modelAliasRoutes, modelAliases, models, modelVersions } from '../storage/schema';
import { decodeCursor, encodeCursor } from '../core/cursor';
import { insertModelIfMissing, requireModel } from './models';
import type { ModelRow, ModelVersion, RegistryDeps, Scope, Task, VersionRow } from './types';

export interface VersionFields {
  description?: string;
  tags?: Record<string, string>;
  metrics?: Record<string, number>;
  featureNames?: string[] | null;
  classLabels?: string[] | null;
}

/** A version number, `latest`, or an alias name, as it appears in `/versions/{v}`. */
export type VersionRef = string;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function withAliases(deps: RegistryDeps, model: ModelRow, row: VersionRow): Promise<ModelVersion> {
  const aliases = await deps.db
    .select({ alias: modelAliases.alias })
    .from(modelAliases)
    .where(eq(modelAliases.versionId, row.id))
    .orderBy(asc(modelAliases.alias));
  return { ...row, modelName: model.name, aliases: aliases.map((a) => a.alias) };
}

/**
 * Finds the version a reference names. Archived versions are returned only to registry calls
 * that ask for them (`allowArchived`); `latest` and aliases never point at one.
 */
export async function resolveVersion(
  deps: RegistryDeps,
  model: ModelRow,
  ref: VersionRef,
  { allowArchived = true } = {},
): Promise<VersionRow> {
  let row: VersionRow | undefined;
  if (/^\d+$/.test(ref)) {
    row = await deps.db.query.modelVersions.findFirst({
      where: and(eq(modelVersions.modelId, model.id), eq(modelVersions.version, Number(ref))),
    });
    if (row && row.archivedAt !== null && !allowArchived) {
      throw notFound(`version ${ref} of model '${model.name}' is archived`, { code: 'version_archived' });
    }
  } else if (ref === 'latest') {
    row = await deps.db.query.modelVersions.findFirst({
      where: and(eq(modelVersions.modelId, model.id), isNull(modelVersions.archivedAt)),
      orderBy: desc(modelVersions.version),
    });
  } else {
    const [found] = await deps.db
      .select({ version: modelVersions })
      .from(modelAliases)
      .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.versionId))
      .where(and(eq(modelAliases.modelId, model.id), eq(modelAliases.alias, ref)));
    row = found?.version;
  }
  if (!row) {
    const what = /^\d+$/.test(ref)
      ? `version ${ref}`
      : ref === 'latest'
        ? 'a version that is not archived'
        : `alias '${ref}'`;
    throw notFound(`model '${model.name}' has no ${what}`, { code: 'version_not_found' });
  }
  return row;
}

export async function getVersion(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  ref: VersionRef,
): Promise<ModelVersion> {
  const model = await requireModel(deps, scope, name);
  return withAliases(deps, model, await resolveVersion(deps, model, ref));
}

/**
 * Registers a new immutable version. The file is validated by loading it (nothing is stored
 * when that fails) and, when onnxruntime-web cannot serve it as it is, rewritten by the import
 * into a serving graph (runtime/import). Both are written to R2 under keys no other upload
 * uses, and only then is the version numbered: creating the model, taking max+1 and inserting
 * run as one D1 batch, so concurrent uploads get distinct numbers. A failed insert removes the
 * R2 objects again.
 */
export async function createVersion(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  bytes: Uint8Array,
  fields: VersionFields,
  limits: { maxNodes: number },
): Promise<{ version: ModelVersion; loaded: LoadedModel }> {
  const existing = await requireModelForUpload(deps, scope, name);
  const imported = await importModel(bytes, limits.maxNodes);
  const { loaded } = imported;
  const keys: string[] = [];
  try {
    const labelled = withImportedNames(fields, imported.serving?.rewrites ?? [], existing);
    const sha256 = await sha256Hex(bytes);
    if (existing) await refuseDuplicate(deps, existing, sha256);
    const id = newId('ver');
    const key = artifactKey(scope.workspaceId, id);
    const customMetadata = { workspace: scope.workspaceId, model: name };
    keys.push(key);
    await deps.bucket.put(key, bytes, {
      sha256,
      httpMetadata: { contentType: 'application/octet-stream' },
      customMetadata,
    });
    let serving: ServingGraph | null = null;
    if (imported.serving) {
      const served = imported.serving.bytes;
      serving = {
        key: servingKey(scope.workspaceId, id),
        sha256: await sha256Hex(served),
        sizeBytes: served.byteLength,
        rewrites: imported.serving.rewrites,
      };
      keys.push(serving.key);
      await deps.bucket.put(serving.key, served, {
        sha256: serving.sha256,
        httpMetadata: { contentType: 'application/octet-stream' },
        customMetadata: { ...customMetadata, serves: key },
      });
    }
    let row: VersionRow;
    try {
      row = await insertVersion(deps, scope, name, {
        id,
        key,
        sha256,
        bytes: bytes.byteLength,
        signature: loaded.signature,
        header: loaded.header,
        serving,
        fields: labelled,
        task: serving?.rewrites.some((r) => r.kind === 'zipmap') ? 'classification' : undefined,
      });
    } catch (err) {
      if (isUniqueViolation(err, 'model_versions.sha256')) {
        await removeFiles(deps, keys);
        const model = await requireModel(deps, scope, name);
        await refuseDuplicate(deps, model, sha256);
      }
      throw err;
    }
    deps.changes.modelChanged(scope.workspaceId, name);
    // Described from the insert's own result: a purge right after it must not turn this into a 500.
    return { version: { ...row, modelName: name, aliases: [] }, loaded };
  } catch (err) {
    await removeFiles(deps, keys);
    await loaded.session.release();
    throw err;
  }
}

/** Best effort: when R2 fails too, the caller still hears why the upload failed. */
async function removeFiles(deps: RegistryDeps, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const doomed = keys.splice(0);
  await deps.bucket
    .delete(doomed)
    // The cron's repair pass deletes them later (repair.ts).
    .catch((cleanup: unknown) =>
      deps.logger.warn('files of a failed upload left in R2', { keys: doomed.join(' '), ...errorFields(cleanup) }),
    );
}

/**
 * A ZipMap's class labels and a DictVectorizer's vocabulary become the version's class labels
 * and feature names, unless the user set their own (on the version or the model): those then
 * must count as many, or the upload is refused naming both.
 */
function withImportedNames(fields: VersionFields, rewrites: Rewrite[], model: ModelRow | undefined): VersionFields {
  const result = { ...fields };
  const zipmap = rewrites.find((r) => r.kind === 'zipmap');
  if (zipmap) {
    result.classLabels = adopt(
      'class labels',
      zipmap.labels,
      `ZipMap '${zipmap.node}'`,
      fields.classLabels,
      model?.classLabels,
    );
  }
  const vectorizer = rewrites.find((r) => r.kind === 'dict_vectorizer');
  if (vectorizer) {
    result.featureNames = adopt(
      'feature names',
      vectorizer.vocabulary,
      `the vocabulary of DictVectorizer '${vectorizer.node}'`,
      fields.featureNames,
      model?.featureNames,
    );
  }
  return result;
}

const listed = (values: string[]) => (values.length > 8 ? `${values.slice(0, 8).join(', ')}, …` : values.join(', '));

function adopt(
  what: string,
  graph: string[],
  source: string,
  version: string[] | null | undefined,
  model: string[] | null | undefined,
): string[] | null | undefined {
  const [user, where] = version ? [version, 'this upload'] : model ? [model, 'the model'] : [null, ''];
  if (!user) return graph;
  if (user.length !== graph.length) {
    throw invalidModel(
      `the ${what} set for ${where} (${user.length}: ${listed(user)}) do not match the ${graph.length} of ${source} (${listed(graph)})`,
    );
  }
  // The model's own apply; the version records only what was sent with it.
  return version;
}

export async function requireModelForUpload(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
): Promise<ModelRow | undefined> {
  const model = await deps.db.query.models.findFirst({
    where: and(eq(models.workspaceId, scope.workspaceId), eq(models.name, name)),
  });
  if (model?.archivedAt != null) {
    throw conflict(`model '${name}' is archived: restore it (PATCH {"archived": false}) before uploading`, {
      code: 'model_archived',
    });
  }
  return model;
}

export async function refuseDuplicate(deps: RegistryDeps, model: ModelRow, sha256: string): Promise<void> {
  const duplicate = await deps.db.query.modelVersions.findFirst({
    where: and(eq(modelVersions.modelId, model.id), eq(modelVersions.sha256, sha256)),
  });
  if (duplicate) {
    throw conflict(`this file duplicates version ${duplicate.version} of model '${model.name}' (sha256 ${sha256})`, {
      code: 'duplicate_version',
      details: { version: duplicate.version, sha256 },
    });
  }
}

export async function insertVersion(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  v: {
    id: string;
    /** The file's R2 key; empty for a remote version, which has none. */
    key: string;
    sha256: string;
    bytes: number;
    signature: Signature;
    header: OnnxHeader;
    serving: ServingGraph | null;
    fields: VersionFields;
    /** The task of the model when this upload creates it. */
    task?: Task;
    backend?: BackendKind;
    remote?: RemoteBackend;
  },
): Promise<VersionRow> {
  const { fields } = v;
  const json = (value: unknown) => JSON.stringify(value);
  const now = Date.now();
  const constant = <T>(value: T) => sql<T>`${value}`;
  // Qualified by hand: drizzle leaves columns unqualified in a one-table select.
  const nextNumber = sql<number>`coalesce((select max(mv.version) from model_versions mv
    where mv.model_id = "models"."id"), 0) + 1`;
  const [, inserted] = await deps.db.batch([
    insertModelIfMissing(deps, scope, name, v.task ? { task: v.task } : {}),
    deps.db
      .insert(modelVersions)
      .select(
        deps.db
          .select({
            id: constant(v.id).as('id'),
            modelId: models.id,
            workspaceId: models.workspaceId,
            version: nextNumber.as('version'),
            sha256: constant(v.sha256).as('sha256'),
            sizeBytes: constant(v.bytes).as('size_bytes'),
            artifactKey: constant(v.key).as('artifact_key'),
            signature: constant(json(v.signature)).as('signature'),
            onnx: constant(json(v.header)).as('onnx'),
            serving: constant(v.serving ? json(v.serving) : null).as('serving'),
            backend: constant(v.backend ?? 'isolate').as('backend'),
            remote: constant(v.remote ? json(v.remote) : null).as('remote'),
            description: constant(fields.description ?? '').as('description'),
            tags: constant(json(fields.tags ?? {})).as('tags'),
            metrics: constant(json(fields.metrics ?? {})).as('metrics'),
            featureNames: constant(fields.featureNames ? json(fields.featureNames) : null).as('feature_names'),
            classLabels: constant(fields.classLabels ? json(fields.classLabels) : null).as('class_labels'),
            createdBy: constant(scope.actorId).as('created_by'),
            createdAt: constant(now).as('created_at'),
            archivedAt: sql<null>`null`.as('archived_at'),
          })
          .from(models)
          .where(and(eq(models.workspaceId, scope.workspaceId), eq(models.name, name))),
      )
      .returning(),
  ]);
  return inserted[0]!;
}

export async function listVersions(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  query: { limit: number; cursor?: string; includeArchived?: boolean },
): Promise<{ versions: ModelVersion[]; nextCursor: string | null }> {
  const model = await requireModel(deps, scope, name);
  const conditions: SQL[] = [eq(modelVersions.modelId, model.id)];
  if (!query.includeArchived) conditions.push(isNull(modelVersions.archivedAt));
  if (query.cursor) conditions.push(lt(modelVersions.version, decodeCursor<number>(query.cursor, 'number')));
  const [rows, aliases] = await deps.db.batch([
    deps.db
      .select()
      .from(modelVersions)
      .where(and(...conditions))
      .orderBy(desc(modelVersions.version))
      .limit(query.limit + 1),
    deps.db
      .select({ versionId: modelAliases.versionId, alias: modelAliases.alias })
      .from(modelAliases)
      .where(eq(modelAliases.modelId, model.id))
      .orderBy(asc(modelAliases.alias)),
  ]);
  const page = rows.slice(0, query.limit);
  return {
    versions: page.map((row) => ({
      ...row,
      modelName: model.name,
      aliases: aliases.filter((a) => a.versionId === row.id).map((a) => a.alias),
    })),
    nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]!.version) : null,
  };
}

export async function updateVersion(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  ref: VersionRef,
  fields: VersionFields & { archived?: boolean },
): Promise<ModelVersion> {
  const model = await requireModel(deps, scope, name);
  const row = await resolveVersion(deps, model, ref);
  const { archived, ...rest } = fields;
  const changes: Partial<typeof modelVersions.$inferInsert> = { ...rest };
  const archiving = archived === true && row.archivedAt === null;
  if (archiving) {
    await refuseIfAliased(deps, row);
    changes.archivedAt = Date.now();
  } else if (archived === false) {
    changes.archivedAt = null;
  }
  if (Object.keys(changes).length === 0) return withAliases(deps, model, row);
  // The alias check is repeated inside the write: an alias set since it ran must stop it.
  const noAlias = sql`not exists (select 1 from model_aliases ma where ma.version_id = ${modelVersions.id})
    and not exists (select 1 from model_alias_routes mr where mr.version_id = ${modelVersions.id})`;
  const [updated] = await deps.db
    .update(modelVersions)
    .set(changes)
    .where(archiving ? and(eq(modelVersions.id, row.id), noAlias) : eq(modelVersions.id, row.id))
    .returning();
  if (!updated) {
    const still = await deps.db.query.modelVersions.findFirst({ where: eq(modelVersions.id, row.id) });
    if (!still)
      throw notFound(`version ${row.version} of model '${name}' no longer exists`, { code: 'version_not_found' });
    // Only the alias condition can have stopped the write; the alias may have moved on since.
    await refuseIfAliased(deps, row);
    throw conflict(`an alias pointed at version ${row.version} while it was being archived; try again`, {
      code: 'version_has_aliases',
    });
  }
  deps.changes.modelChanged(scope.workspaceId, name);
  return withAliases(deps, model, updated);
}

async function refuseIfAliased(deps: RegistryDeps, row: VersionRow): Promise<void> {
  const [pointing, routing] = await deps.db.batch([
    deps.db.select({ alias: modelAliases.alias }).from(modelAliases).where(eq(modelAliases.versionId, row.id)),
    deps.db
      .select({ alias: modelAliasRoutes.alias, kind: modelAliasRoutes.kind })
      .from(modelAliasRoutes)
      .where(eq(modelAliasRoutes.versionId, row.id)),
  ]);
  const roles = new Map<string, string>(pointing.map((t) => [t.alias, 'points at it']));
  for (const t of routing) roles.set(t.alias, t.kind === 'shadow' ? 'mirrors traffic to it' : 'routes traffic to it');
  if (roles.size > 0) {
    const names = [...roles.keys()].sort();
    const which =
      names.length === 1
        ? `alias '${names[0]}' ${roles.get(names[0]!)}`
        : `aliases ${names.map((n) => `'${n}' (${roles.get(n)})`).join(', ')} use it`;
    throw conflict(`version ${row.version} cannot be archived while ${which}; move the alias first`, {
      code: 'version_has_aliases',
    });
  }
}

/** The version and its file, streamed from R2. */
export async function openArtifact(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  ref: VersionRef,
): Promise<{ version: ModelVersion; object: R2ObjectBody }> {
  const version = await getVersion(deps, scope, name, ref);
  if (version.backend === 'remote') {
    throw notFound(
      `version ${version.version} of model '${name}' is served by a remote server (${version.remote?.url}); it has no file here`,
      { code: 'version_not_found' },
    );
  }
  const object = await deps.bucket.get(version.artifactKey);
  if (!object) throw artifactMissing(version.artifactKey);
  return { version, object };
}

/** Numbers of the versions that can be served, newest first. */
export async function servableVersionNumbers(deps: RegistryDeps, scope: Scope, name: string): Promise<number[]> {
  const model = await requireModel(deps, scope, name, { allowArchived: false });
  const rows = await deps.db
    .select({ version: modelVersions.version })
    .from(modelVersions)
    .where(and(eq(modelVersions.modelId, model.id), isNull(modelVersions.archivedAt)))
    .orderBy(desc(modelVersions.version));
  return rows.map((r) => r.version);
}

/** A version by its id, with its model, within the workspace (jobs pin versions by id). */
export async function getVersionById(
  deps: Pick<RegistryDeps, 'db'>,
  scope: Scope,
  versionId: string,
): Promise<{ model: ModelRow; version: VersionRow }> {
  const [row] = await deps.db
    .select({ model: models, version: modelVersions })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(and(eq(modelVersions.id, versionId), eq(modelVersions.workspaceId, scope.workspaceId)));
  if (!row) throw notFound(`model version ${versionId} no longer exists`, { code: 'version_not_found' });
  return row;
}
