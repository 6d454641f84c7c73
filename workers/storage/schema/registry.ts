import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { BackendKind, OnnxHeader, RemoteBackend, ServingGraph, Signature } from '../../core/signature';
import { createdAt } from './columns';

/*
 * D1 schema. Times are Unix milliseconds. JSON columns hold small documents (tags, signatures)
 * that are read whole; anything filtered on has its own column or index.
 * Every tenant-owned row carries workspace_id so queries can always scope by it.
 */

export const workspaces = sqliteTable('workspaces', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** The workspace a user got at registration. */
  personal: integer('personal', { mode: 'boolean' }).notNull().default(false),
  /** Per-workspace rate limits; null means the platform default from the configuration. */
  predictionLimit: integer('prediction_limit'),
  managementLimit: integer('management_limit'),
  rateWindowSeconds: integer('rate_window_seconds'),
  createdAt: createdAt(),
});

export const models = sqliteTable(
  'models',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    task: text('task', { enum: ['classification', 'regression', 'other'] })
      .notNull()
      .default('other'),
    tags: text('tags', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
    featureNames: text('feature_names', { mode: 'json' }).$type<string[] | null>(),
    classLabels: text('class_labels', { mode: 'json' }).$type<string[] | null>(),
    cacheEnabled: integer('cache_enabled', { mode: 'boolean' }).notNull().default(true),
    cacheTtlSeconds: integer('cache_ttl_seconds').notNull().default(300),
    /** Also keep predictions in KV, shared by every location (for models dearer than a KV read). */
    cacheShared: integer('cache_shared', { mode: 'boolean' }).notNull().default(false),
    /**
     * How long a prediction waits for KV before the model answers instead: set near the
     * model's own compute time (the isolate cannot time its own CPU; the clock stands still).
     */
    cacheSharedTimeoutMs: integer('cache_shared_timeout_ms').notNull().default(25),
    /** Share of predictions logged with their inputs and outputs, 0 to 1. */
    logSampleRate: real('log_sample_rate').notNull().default(0),
    driftPsiThreshold: real('drift_psi_threshold').notNull().default(0.2),
    driftKsThreshold: real('drift_ks_threshold').notNull().default(0.1),
    driftWindowHours: integer('drift_window_hours').notNull().default(24),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
    archivedAt: integer('archived_at'),
  },
  (t) => [uniqueIndex('models_workspace_name').on(t.workspaceId, t.name)],
);

export const modelVersions = sqliteTable(
  'model_versions',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    workspaceId: text('workspace_id').notNull(),
    version: integer('version').notNull(),
    sha256: text('sha256').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    artifactKey: text('artifact_key').notNull(),
    signature: text('signature', { mode: 'json' }).$type<Signature>().notNull(),
    onnx: text('onnx', { mode: 'json' }).$type<OnnxHeader>().notNull(),
    /** The rewritten graph the version is served from (R2 key, sha256, rewrites); null: the artifact itself. */
    serving: text('serving', { mode: 'json' }).$type<ServingGraph>(),
    /** What runs the version: the isolate, the native runner, or a remote server (`remote`). */
    backend: text('backend', { enum: ['isolate', 'runner', 'remote'] })
      .$type<BackendKind>()
      .notNull()
      .default('isolate'),
    /** The remote server and model a `remote` version calls (its credential encrypted); else null. */
    remote: text('remote', { mode: 'json' }).$type<RemoteBackend>(),
    description: text('description').notNull().default(''),
    tags: text('tags', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
    metrics: text('metrics', { mode: 'json' }).$type<Record<string, number>>().notNull().default({}),
    featureNames: text('feature_names', { mode: 'json' }).$type<string[] | null>(),
    classLabels: text('class_labels', { mode: 'json' }).$type<string[] | null>(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    archivedAt: integer('archived_at'),
  },
  (t) => [
    uniqueIndex('model_versions_number').on(t.modelId, t.version),
    uniqueIndex('model_versions_sha256').on(t.modelId, t.sha256),
    index('model_versions_workspace').on(t.workspaceId),
  ],
);

/** Limits an alias's split is held to (rollouts/guard.ts); absent limits are not checked. */
export interface AliasGuard {
  min_requests: number;
  max_error_rate?: number;
  max_p99_ms?: number;
  max_accuracy_drop?: number;
  /** Feedback rows each side needs before accuracy is compared. */
  min_feedback?: number;
  /** How far back the guard looks (never before the routes were set). */
  window_minutes?: number;
}

/** Why an alias went back to its first route: the limits a route broke, or a person. */
export interface AliasRollback {
  by: 'guard' | 'hand';
  breaches: { route: number; version: number; limit: string; value: number; threshold: number }[];
}

export const modelAliases = sqliteTable(
  'model_aliases',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    alias: text('alias').notNull(),
    /** The version served without a split; with routes, the first route's version. */
    versionId: text('version_id')
      .notNull()
      .references(() => modelVersions.id),
    updatedBy: text('updated_by').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** Bumped by every change: a step or a rollback applies only to the alias it judged. */
    revision: integer('revision').notNull().default(0),
    guard: text('guard', { mode: 'json' }).$type<AliasGuard | null>(),
    steps: text('steps', { mode: 'json' }).$type<number[] | null>(),
    stepMinutes: integer('step_minutes'),
    /** When the routes were set by hand: the guard never judges traffic from before. */
    splitAt: integer('split_at'),
    /** When the weights last changed (set, stepped, rolled back): the next step counts from here. */
    weightsAt: integer('weights_at'),
    rolledBackAt: integer('rolled_back_at'),
    rollback: text('rollback', { mode: 'json' }).$type<AliasRollback | null>(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.alias] })],
);

/**
 * The versions an alias splits its traffic between (`route`, in order, weights summing to 100)
 * and the version it mirrors a share of requests to (`shadow`). A plain alias has none.
 */
export const modelAliasRoutes = sqliteTable(
  'model_alias_routes',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    alias: text('alias').notNull(),
    kind: text('kind', { enum: ['route', 'shadow'] }).notNull(),
    position: integer('position').notNull(),
    versionId: text('version_id')
      .notNull()
      .references(() => modelVersions.id),
    /** A route's weight (percent of the alias's requests), or the shadow's percent. */
    share: real('share').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.alias, t.kind, t.position] }),
    index('model_alias_routes_version').on(t.versionId),
  ],
);
