import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { BUCKETS } from '../../core/latency-buckets';
import { createdAt } from './columns';

/*
 * Monitoring data. Counters are written as increments (upserts that add), so several isolates
 * flushing the same minute never overwrite each other. Latency histograms keep one column per
 * bucket (not cumulative, so an upsert can add them); the bounds are in
 * workers/core/latency-buckets.ts.
 */

export const LATENCY_COLUMNS = Array.from({ length: BUCKETS }, (_, i) => `latency_b${i}`);
type LatencyColumn = `latencyB${number}`;

const latencyBuckets = () =>
  Object.fromEntries(
    LATENCY_COLUMNS.map((column, i) => [`latencyB${i}`, integer(column).notNull().default(0)]),
  ) as Record<LatencyColumn, ReturnType<typeof integer>>;

/** What every prediction request adds: per version here, per alias route in rollouts.ts. */
export const requestCounters = () => ({
  requests: integer('requests').notNull().default(0),
  /** Rows predicted: the batch size of each request, summed. */
  rows: integer('rows').notNull().default(0),
  clientErrors: integer('client_errors').notNull().default(0),
  serverErrors: integer('server_errors').notNull().default(0),
  cacheHits: integer('cache_hits').notNull().default(0),
  cacheMisses: integer('cache_misses').notNull().default(0),
  cacheBypasses: integer('cache_bypasses').notNull().default(0),
  latencyMsSum: real('latency_ms_sum').notNull().default(0),
  ...latencyBuckets(),
});

const counters = () => ({
  ...requestCounters(),
  batchRowsOk: integer('batch_rows_ok').notNull().default(0),
  batchRowsFailed: integer('batch_rows_failed').notNull().default(0),
  loads: integer('loads').notNull().default(0),
  loadMsSum: real('load_ms_sum').notNull().default(0),
});

/** Per-minute rollups per model version: what stats, charts and windows are made of. */
export const metricRollups = sqliteTable(
  'metric_rollups',
  {
    workspaceId: text('workspace_id').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    minute: integer('minute').notNull(),
    ...counters(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.model, t.version, t.minute] }),
    index('metric_rollups_minute').on(t.minute),
  ],
);

/** Totals since the version first served: monotonic counters for Prometheus, never pruned. */
export const metricTotals = sqliteTable(
  'metric_totals',
  {
    workspaceId: text('workspace_id').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    ...counters(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.model, t.version] })],
);

/** Original sizes of the parts of a logged prediction that did not fit its row. */
export interface PredictionTruncation {
  inputs?: { bytes: number };
  outputs?: { bytes: number };
  /** `kept` of `rows` predicted values were logged: the leading ones. */
  predicted?: { rows: number; kept: number };
}

/** Sampled predictions: the inputs and outputs, for lookup, feedback and audits. */
export const predictionLogs = sqliteTable(
  'prediction_logs',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    requestId: text('request_id').notNull(),
    inputs: text('inputs').notNull(),
    outputs: text('outputs').notNull(),
    /** What each row predicted (label or value), for comparing with feedback. */
    predicted: text('predicted', { mode: 'json' }).$type<unknown[] | null>(),
    rows: integer('rows').notNull(),
    cache: text('cache').notNull(),
    /** What was cut to keep the row within its budget (monitoring/predictions.ts); null: nothing. */
    truncated: text('truncated', { mode: 'json' }).$type<PredictionTruncation | null>(),
    createdAt: createdAt(),
  },
  (t) => [
    index('prediction_logs_model').on(t.workspaceId, t.model, t.createdAt),
    // Retention and the daily export read by time across models.
    index('prediction_logs_created').on(t.createdAt),
  ],
);

/** The true value of a logged prediction's row, reported later by the client. */
export const predictionFeedback = sqliteTable(
  'prediction_feedback',
  {
    predictionId: text('prediction_id').notNull(),
    row: integer('row').notNull(),
    workspaceId: text('workspace_id').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    actual: text('actual', { mode: 'json' }).$type<unknown>().notNull(),
    predicted: text('predicted', { mode: 'json' }).$type<unknown>(),
    /** When the prediction was made: performance windows are about predictions, not feedback. */
    predictedAt: integer('predicted_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.predictionId, t.row] }),
    index('prediction_feedback_model').on(t.workspaceId, t.model, t.predictedAt),
  ],
);

export interface FeatureBaseline {
  name: string;
  kind: 'numeric' | 'categorical';
  /** Numeric: inner bin edges (bins are (-inf, e0], (e0, e1], … (en, +inf)). */
  edges?: number[];
  /** Categorical: the baseline's categories; one more bin holds everything else. */
  categories?: string[];
  /** Baseline rows per bin. */
  counts: number[];
}

/** A version's reference distribution, uploaded or captured from its first predictions. */
export const driftBaselines = sqliteTable('drift_baselines', {
  versionId: text('version_id').primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  model: text('model').notNull(),
  version: integer('version').notNull(),
  source: text('source', { enum: ['rows', 'capture'] }).notNull(),
  status: text('status', { enum: ['capturing', 'ready'] }).notNull(),
  targetRows: integer('target_rows').notNull(),
  rows: integer('rows').notNull().default(0),
  features: text('features', { mode: 'json' }).$type<FeatureBaseline[] | null>(),
  createdAt: createdAt(),
  readyAt: integer('ready_at'),
});

/** Feature vectors captured from live traffic until the baseline has enough. */
export const driftCapturedRows = sqliteTable(
  'drift_captured_rows',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    versionId: text('version_id').notNull(),
    values: text('values', { mode: 'json' }).$type<unknown[]>().notNull(),
  },
  (t) => [index('drift_captured_rows_version').on(t.versionId)],
);

/** Live traffic per feature and bin (the baseline's bins) and hour, kept incrementally. */
export const driftBins = sqliteTable(
  'drift_bins',
  {
    versionId: text('version_id').notNull(),
    hour: integer('hour').notNull(),
    feature: integer('feature').notNull(),
    bin: integer('bin').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.hour, t.feature, t.bin] }), index('drift_bins_hour').on(t.hour)],
);

export interface FeatureDrift {
  name: string;
  kind: 'numeric' | 'categorical';
  psi: number;
  ks: number | null;
  drifted: boolean;
}

/** What the periodic drift check found for a version over its window. */
export const driftReports = sqliteTable(
  'drift_reports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: text('workspace_id').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    versionId: text('version_id').notNull(),
    status: text('status', { enum: ['ok', 'drifted', 'insufficient_data'] }).notNull(),
    rows: integer('rows').notNull(),
    windowHours: integer('window_hours').notNull(),
    /** The thresholds this report judged by (null in reports older than these columns). */
    psiThreshold: real('psi_threshold'),
    ksThreshold: real('ks_threshold'),
    features: text('features', { mode: 'json' }).$type<FeatureDrift[]>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('drift_reports_version').on(t.versionId, t.id)],
);

/**
 * Requests that failed (4xx, 5xx) in a workspace, with the code and message the caller got:
 * the dashboard's errors view. Written from the isolate in batches, a bounded sample of them
 * (see monitoring/failures.ts), never the request's body or headers.
 */
export const requestFailures = sqliteTable(
  'request_failures',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    /** The model the route names, if any. */
    model: text('model'),
    version: integer('version'),
    requestId: text('request_id').notNull(),
    method: text('method').notNull(),
    /** The route pattern (`/v1/models/:name/predict`), never the path with its values. */
    route: text('route'),
    status: integer('status').notNull(),
    code: text('code').notNull(),
    message: text('message').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('request_failures_workspace').on(t.workspaceId, t.createdAt),
    index('request_failures_model').on(t.workspaceId, t.model, t.createdAt),
  ],
);

/** Days whose logged predictions the daily export has written to R2 (monitoring/export/daily.ts). */
export const predictionExportDays = sqliteTable('prediction_export_days', {
  /** The UTC day, YYYY-MM-DD. */
  day: text('day').primaryKey(),
  files: integer('files').notNull(),
  rows: integer('rows').notNull(),
  finishedAt: integer('finished_at').notNull(),
});
