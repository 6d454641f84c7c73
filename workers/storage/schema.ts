import type { OnnxHeader, Signature } from '../core/signature';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { ROLES, type Permission } from '../core/access';

/*
 * D1 schema. Times are Unix milliseconds. JSON columns hold small documents (tags, signatures)
 * that are read whole; anything filtered on has its own column or index.
 * Every tenant-owned row carries workspace_id so queries can always scope by it.
 */

const createdAt = () => integer('created_at').notNull();

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

export const modelAliases = sqliteTable(
  'model_aliases',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    alias: text('alias').notNull(),
    versionId: text('version_id')
      .notNull()
      .references(() => modelVersions.id),
    updatedBy: text('updated_by').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.alias] })],
);

/** JSONL inputs put in place for batch jobs (`POST /v1/uploads`, or inline rows of a job). */
export const uploads = sqliteTable(
  'uploads',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    key: text('key').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    filename: text('filename'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('uploads_workspace').on(t.workspaceId, t.createdAt)],
);

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'partially_failed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/*
 * A batch job pins the version it was submitted against. Row counts and progress are derived
 * from its chunks, so a redelivered chunk can never count twice.
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    modelId: text('model_id').notNull(),
    modelName: text('model_name').notNull(),
    versionId: text('version_id').notNull(),
    version: integer('version').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    inputKey: text('input_key').notNull(),
    inputSource: text('input_source', { mode: 'json' })
      .$type<{ kind: 'upload' | 'key' | 'rows'; ref: string }>()
      .notNull(),
    chunkSize: integer('chunk_size').notNull(),
    outputs: text('outputs', { mode: 'json' }).$type<string[] | null>(),
    includeInput: integer('include_input', { mode: 'boolean' }).notNull().default(false),
    rowsTotal: integer('rows_total'),
    chunksTotal: integer('chunks_total'),
    error: text('error'),
    webhookUrl: text('webhook_url'),
    webhookSecret: text('webhook_secret'),
    triggerId: text('trigger_id'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('jobs_workspace').on(t.workspaceId, t.createdAt), index('jobs_status').on(t.status)],
);

export const CHUNK_STATUSES = ['pending', 'done', 'failed'] as const;

/** A row range of a job's input: the unit of queue work and of retries. */
export const jobChunks = sqliteTable(
  'job_chunks',
  {
    jobId: text('job_id').notNull(),
    index: integer('idx').notNull(),
    firstRow: integer('first_row').notNull(),
    rowCount: integer('row_count').notNull(),
    byteOffset: integer('byte_offset').notNull(),
    byteLength: integer('byte_length').notNull(),
    status: text('status', { enum: CHUNK_STATUSES }).notNull().default('pending'),
    rowsOk: integer('rows_ok').notNull().default(0),
    rowsFailed: integer('rows_failed').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    errorSample: text('error_sample', { mode: 'json' }).$type<{ index: number; error: string }[]>(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.index] })],
);

/** Inbound webhooks that start batch jobs; the signing secret is shown once at creation. */
export const triggers = sqliteTable(
  'triggers',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    name: text('name').notNull(),
    modelName: text('model_name').notNull(),
    versionRef: text('version_ref'),
    chunkSize: integer('chunk_size').notNull(),
    outputs: text('outputs', { mode: 'json' }).$type<string[] | null>(),
    includeInput: integer('include_input', { mode: 'boolean' }).notNull().default(false),
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: integer('previous_secret_expires_at'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('triggers_workspace').on(t.workspaceId)],
);

/** webhook-id values already accepted per trigger: a retried delivery finds its job here. */
export const triggerDeliveries = sqliteTable(
  'trigger_deliveries',
  {
    triggerId: text('trigger_id').notNull(),
    webhookId: text('webhook_id').notNull(),
    jobId: text('job_id').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.triggerId, t.webhookId] }), index('trigger_deliveries_received').on(t.receivedAt)],
);

export const WEBHOOK_EVENTS = [
  'job.succeeded',
  'job.partially_failed',
  'job.failed',
  'job.cancelled',
  'model.version.created',
  'alias.moved',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Outbound webhook endpoints a workspace registers for platform events. */
export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    url: text('url').notNull(),
    events: text('events', { mode: 'json' }).$type<WebhookEvent[]>().notNull(),
    description: text('description').notNull().default(''),
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: integer('previous_secret_expires_at'),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('webhook_endpoints_workspace').on(t.workspaceId)],
);

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

/** One event sent to one destination: an endpoint, or the webhook URL a job was submitted with. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    endpointId: text('endpoint_id'),
    jobId: text('job_id'),
    event: text('event').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    lastAttemptAt: integer('last_attempt_at'),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [index('webhook_deliveries_endpoint').on(t.endpointId, t.createdAt)],
);

/* ── Users, sessions and workspace membership ─────────────────────────────────────────── */

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  /** Lower-cased at registration so one address is one account. */
  email: text('email').notNull().unique(),
  name: text('name').notNull().default(''),
  /** `pbkdf2-sha256$<iterations>$<salt>$<hash>`: self-describing so the cost can grow later. */
  passwordHash: text('password_hash').notNull(),
  personalWorkspaceId: text('personal_workspace_id')
    .notNull()
    .references(() => workspaces.id),
  createdAt: createdAt(),
});

/** One login: the family of refresh tokens that rotate from it, and what access tokens name in `sid`. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    revokedAt: integer('revoked_at'),
    revokedReason: text('revoked_reason', { enum: ['logout', 'refresh_token_reuse'] }),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/** Only the SHA-256 of a refresh token is stored; `usedAt` marks it rotated (a second use is theft). */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id),
    createdAt: createdAt(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('refresh_tokens_session').on(t.sessionId)],
);

export const memberships = sqliteTable(
  'memberships',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.userId] }), index('memberships_user').on(t.userId)],
);

export const invitations = sqliteTable(
  'invitations',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    email: text('email').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    invitedBy: text('invited_by').notNull(),
    createdAt: createdAt(),
    expiresAt: integer('expires_at').notNull(),
    acceptedAt: integer('accepted_at'),
    acceptedBy: text('accepted_by'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('invitations_workspace').on(t.workspaceId, t.createdAt)],
);

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    name: text('name').notNull(),
    /** The first characters of the secret, shown in lists so a key can be recognised. */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole secret: enough for 256 random bits, and one lookup per request. */
    keyHash: text('key_hash').notNull().unique(),
    scopes: text('scopes', { mode: 'json' }).$type<Permission[]>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    expiresAt: integer('expires_at'),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('api_keys_workspace').on(t.workspaceId, t.createdAt)],
);

/** Append-only record of changes; the integer id orders it and pages it. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: text('workspace_id').notNull(),
    actorKind: text('actor_kind', { enum: ['admin', 'user', 'api_key'] }).notNull(),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default({}),
    requestId: text('request_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('audit_log_workspace').on(t.workspaceId, t.id)],
);
