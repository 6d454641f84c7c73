import { and, asc, eq, gt, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { conflict, notFound } from '../core/errors';
import { newId } from '../core/ids';
import { modelAliases, models, modelVersions } from '../storage/schema';
import { decodeCursor, encodeCursor } from '../core/cursor';
import type { Model, ModelRow, RegistryDeps, Scope, Task } from './types';

export interface ModelFields {
  description?: string;
  task?: Task;
  tags?: Record<string, string>;
  featureNames?: string[] | null;
  classLabels?: string[] | null;
  cacheEnabled?: boolean;
  cacheTtlSeconds?: number;
  cacheShared?: boolean;
  cacheSharedTimeoutMs?: number;
  logSampleRate?: number;
  driftPsiThreshold?: number;
  driftKsThreshold?: number;
  driftWindowHours?: number;
}

export interface ModelListQuery {
  limit: number;
  cursor?: string;
  namePrefix?: string;
  /** `key` (the tag is present) or `key=value`. */
  tags?: string[];
  task?: Task;
  includeArchived?: boolean;
}

// Qualified by hand: drizzle leaves columns unqualified in a one-table select.
const latestVersion = sql<number | null>`(select max(mv.version) from model_versions mv
  where mv.model_id = "models"."id" and mv.archived_at is null)`;

export async function findModel(deps: RegistryDeps, scope: Scope, name: string): Promise<ModelRow | undefined> {
  return deps.db.query.models.findFirst({
    where: and(eq(models.workspaceId, scope.workspaceId), eq(models.name, name)),
  });
}

/** The model, or not_found; archived models are found only when `allowArchived`. */
export async function requireModel(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  { allowArchived = true } = {},
): Promise<ModelRow> {
  const model = await findModel(deps, scope, name);
  if (!model) throw notFound(`model '${name}' not found`, { code: 'model_not_found' });
  if (model.archivedAt !== null && !allowArchived) {
    throw notFound(`model '${name}' is archived`, { code: 'model_archived' });
  }
  return model;
}

/** Adds what a client wants with every model: the latest version and the aliases. */
async function describe(deps: RegistryDeps, rows: ModelRow[]): Promise<Model[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [latest, aliases] = await deps.db.batch([
    deps.db.select({ modelId: models.id, latest: latestVersion }).from(models).where(inArray(models.id, ids)),
    deps.db
      .select({ modelId: modelAliases.modelId, alias: modelAliases.alias, version: modelVersions.version })
      .from(modelAliases)
      .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.versionId))
      .where(inArray(modelAliases.modelId, ids))
      .orderBy(asc(modelAliases.alias)),
  ]);
  const latestById = new Map(latest.map((l) => [l.modelId, l.latest]));
  return rows.map((row) => ({
    ...row,
    latestVersion: latestById.get(row.id) ?? null,
    aliases: Object.fromEntries(aliases.filter((a) => a.modelId === row.id).map((a) => [a.alias, a.version])),
  }));
}

export async function describeModel(deps: RegistryDeps, row: ModelRow): Promise<Model> {
  const [model] = await describe(deps, [row]);
  return model!;
}

export async function getModel(deps: RegistryDeps, scope: Scope, name: string): Promise<Model> {
  return describeModel(deps, await requireModel(deps, scope, name));
}

function insertModelValues(scope: Scope, name: string, fields: ModelFields, now: number) {
  return {
    id: newId('mdl'),
    workspaceId: scope.workspaceId,
    name,
    description: fields.description ?? '',
    task: fields.task ?? 'other',
    tags: fields.tags ?? {},
    featureNames: fields.featureNames ?? null,
    classLabels: fields.classLabels ?? null,
    cacheEnabled: fields.cacheEnabled ?? true,
    cacheTtlSeconds: fields.cacheTtlSeconds ?? 300,
    cacheShared: fields.cacheShared ?? false,
    cacheSharedTimeoutMs: fields.cacheSharedTimeoutMs ?? 25,
    logSampleRate: fields.logSampleRate ?? 0,
    driftPsiThreshold: fields.driftPsiThreshold ?? 0.2,
    driftKsThreshold: fields.driftKsThreshold ?? 0.1,
    driftWindowHours: fields.driftWindowHours ?? 24,
    createdBy: scope.actorId,
    createdAt: now,
    updatedAt: now,
  } satisfies typeof models.$inferInsert;
}

/** The statement that creates the model unless it exists, for use inside an upload's batch. */
export function insertModelIfMissing(deps: RegistryDeps, scope: Scope, name: string, fields: ModelFields) {
  return deps.db
    .insert(models)
    .values(insertModelValues(scope, name, fields, Date.now()))
    .onConflictDoNothing({ target: [models.workspaceId, models.name] });
}

export async function createModel(deps: RegistryDeps, scope: Scope, name: string, fields: ModelFields): Promise<Model> {
  const inserted = await insertModelIfMissing(deps, scope, name, fields).returning();
  if (inserted.length === 0) throw conflict(`model '${name}' already exists`, { code: 'model_exists' });
  return describeModel(deps, inserted[0]!);
}

export async function updateModel(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  fields: ModelFields & { archived?: boolean },
): Promise<Model> {
  const model = await requireModel(deps, scope, name);
  const { archived, ...rest } = fields;
  const changes: Partial<typeof models.$inferInsert> = { ...rest, updatedAt: Date.now() };
  if (archived !== undefined) changes.archivedAt = archived ? (model.archivedAt ?? Date.now()) : null;
  const [updated] = await deps.db.update(models).set(changes).where(eq(models.id, model.id)).returning();
  // Purged between the read and the write.
  if (!updated) throw notFound(`model '${name}' not found`, { code: 'model_not_found' });
  deps.changes.modelChanged(scope.workspaceId, name);
  return describeModel(deps, updated);
}

export async function listModels(
  deps: RegistryDeps,
  scope: Scope,
  query: ModelListQuery,
): Promise<{ models: Model[]; nextCursor: string | null }> {
  const conditions: SQL[] = [eq(models.workspaceId, scope.workspaceId)];
  if (!query.includeArchived) conditions.push(isNull(models.archivedAt));
  if (query.cursor) conditions.push(gt(models.name, decodeCursor<string>(query.cursor, 'string')));
  if (query.namePrefix) {
    conditions.push(sql`substr(${models.name}, 1, ${query.namePrefix.length}) = ${query.namePrefix}`);
  }
  if (query.task) conditions.push(eq(models.task, query.task));
  for (const tag of query.tags ?? []) {
    const split = tag.indexOf('=');
    const key = split === -1 ? tag : tag.slice(0, split);
    const path = `$."${key}"`;
    conditions.push(
      split === -1
        ? sql`json_extract(${models.tags}, ${path}) is not null`
        : sql`json_extract(${models.tags}, ${path}) = ${tag.slice(split + 1)}`,
    );
  }
  const rows = await deps.db
    .select()
    .from(models)
    .where(and(...conditions))
    .orderBy(asc(models.name))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const nextCursor = rows.length > query.limit ? encodeCursor(page[page.length - 1]!.name) : null;
  return { models: await describe(deps, page), nextCursor };
}
