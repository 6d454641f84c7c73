import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

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
  'drift.detected',
  'alias.rolled_back',
  'alias.promoted',
  'alert.fired',
  'alert.resolved',
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
