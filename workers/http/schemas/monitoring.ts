import { z } from '@hono/zod-openapi';
import { Timestamp } from './common';
import * as ex from './examples';

const MAX_WINDOW_MINUTES = 30 * 24 * 60;
const UNIT_MINUTES = { m: 1, h: 60, d: 1440 } as const;

/** `15m`, `1h`, `24h`, `7d`…: a window ending now, at most 30 days. */
export const Window = z
  .string()
  .regex(/^\d{1,5}[mhd]$/, { error: 'window is a number and a unit: 15m, 1h, 24h, 7d (at most 30d)' })
  .transform((w) => Number(w.slice(0, -1)) * UNIT_MINUTES[w.slice(-1) as keyof typeof UNIT_MINUTES])
  .refine((minutes) => minutes >= 1 && minutes <= MAX_WINDOW_MINUTES, { error: 'window must be 1m to 30d' })
  .openapi({ type: 'string', example: '24h', description: 'A window ending now: 15m, 1h, 24h, 7d… (at most 30d)' });

const nullableNumber = z.number().nullable();

const Summary = z.object({
  requests: z.number().int(),
  rows: z.number().int(),
  errors: z.object({ client: z.number().int(), server: z.number().int() }),
  error_rate: nullableNumber,
  latency_ms: z.object({ mean: nullableNumber, p50: nullableNumber, p95: nullableNumber, p99: nullableNumber }),
  cache: z.object({
    hits: z.number().int(),
    misses: z.number().int(),
    bypasses: z.number().int(),
    hit_ratio: nullableNumber,
  }),
  batch_rows: z.object({ succeeded: z.number().int(), failed: z.number().int() }),
  loads: z.object({ count: z.number().int(), mean_ms: nullableNumber }),
});

export const SeriesPoint = z.object({
  at: Timestamp.openapi({ description: 'Start of the bucket' }),
  requests: z.number().int(),
  rows: z.number().int(),
  error_rate: nullableNumber,
  p50: nullableNumber,
  p95: nullableNumber,
  p99: nullableNumber,
  cache_hit_ratio: nullableNumber,
});

export const Stats = z
  .object({
    model: z.string(),
    window: z.object({
      from: Timestamp,
      to: Timestamp,
      step_minutes: z.number().int().openapi({
        description:
          'Bucket size: a round step (1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12, 24 h) giving at most 120 points',
      }),
    }),
    total: Summary,
    versions: z.array(
      Summary.extend({
        version: z.number().int(),
        series: z.array(SeriesPoint).optional().openapi({ description: 'The version’s own points, with `by=version`' }),
      }),
    ),
    series: z.array(SeriesPoint),
  })
  .openapi('ModelStats', {
    example: ex.STATS,
    description: 'Percentiles come from the latency histogram (interpolated within buckets).',
  });

export const Prediction = z
  .object({
    id: z.string().openapi({ example: 'prd_0f3c…' }),
    model: z.string(),
    version: z.number().int(),
    request_id: z.string(),
    rows: z.number().int(),
    cache: z.string(),
    inputs: z.unknown().openapi({ description: 'The request as sent: {"inputs": […]} or {"instances": […]}' }),
    outputs: z.unknown().openapi({ description: 'The Open Inference Protocol outputs' }),
    predicted: z.array(z.unknown()).nullable().openapi({ description: 'Per row: the label (classifiers) or value' }),
    feedback: z
      .object({
        actual: z.array(z.unknown()).openapi({ description: 'The true value of each row (the first 100 rows)' }),
        received_at: Timestamp,
      })
      .nullable()
      .openapi({
        description: 'The true values reported for it (POST /v1/predictions/{id}/feedback); null until then',
      }),
    created_at: Timestamp,
  })
  .openapi('LoggedPrediction', { example: ex.PREDICTION });

export const PredictionList = z
  .object({ predictions: z.array(Prediction), next_cursor: z.string().nullable() })
  .openapi('LoggedPredictionList', { example: { predictions: [ex.PREDICTION], next_cursor: null } });

export const FeedbackBody = z
  .object({
    actual: z.unknown().openapi({
      description: 'The true value (label or number); for a prediction of several rows, an array with one per row',
      example: 'versicolor',
    }),
  })
  .strict()
  .openapi('Feedback', { example: ex.FEEDBACK });

export const FeedbackAccepted = z
  .object({ prediction_id: z.string(), rows: z.number().int() })
  .openapi('FeedbackAccepted', { example: ex.FEEDBACK_ACCEPTED });

const ClassScores = z.object({
  precision: nullableNumber,
  recall: nullableNumber,
  f1: nullableNumber,
  support: z.number().int(),
});

export const Performance = z
  .object({
    model: z.string(),
    kind: z.enum(['classification', 'regression']),
    step_minutes: z.number().int().openapi({
      description: 'Resolution of the series: a round step giving 60 to 120 points over the window',
      example: 15,
    }),
    step: z.enum(['hour', 'day']).openapi({
      deprecated: true,
      description: 'Deprecated, read step_minutes: `day` when the step is a day or more, else `hour`',
    }),
    count: z.number().int().openapi({ description: 'Rows with feedback in the window' }),
    metrics: z.union([
      z.object({
        accuracy: nullableNumber,
        precision: nullableNumber,
        recall: nullableNumber,
        f1: nullableNumber,
        per_class: z.record(z.string(), ClassScores),
      }),
      z.object({ mae: nullableNumber, rmse: nullableNumber }),
    ]),
    series: z.array(z.object({ at: Timestamp, count: z.number().int(), value: nullableNumber })),
  })
  .openapi('ModelPerformance', {
    example: ex.PERFORMANCE,
    description: 'Macro-averaged precision, recall and F1 over the classes seen.',
  });

export const BaselineBody = z
  .union([
    z.object({ rows: z.array(z.unknown()).min(1) }).strict(),
    z.object({ upload_id: z.string().min(1).max(64) }).strict(),
    z.object({ capture: z.number().int().min(1) }).strict(),
  ])
  .openapi('SetBaseline', {
    description:
      'Reference rows (records as in the instances API) inline or as a JSONL upload, or `capture`: take the next N predicted rows of this version.',
    example: ex.SET_BASELINE,
  });

const FeatureBaseline = z.object({
  name: z.string(),
  kind: z.enum(['numeric', 'categorical']),
  bins: z.number().int(),
  edges: z.array(z.number()).optional(),
  categories: z.array(z.string()).optional(),
});

export const Baseline = z
  .object({
    model: z.string(),
    version: z.number().int(),
    source: z.enum(['rows', 'capture']),
    status: z.enum(['capturing', 'ready']),
    rows: z.number().int(),
    target_rows: z.number().int(),
    features: z.array(FeatureBaseline).nullable(),
    created_at: Timestamp,
    ready_at: Timestamp.nullable(),
  })
  .openapi('DriftBaseline', { example: ex.BASELINE });

export const DriftReport = z
  .object({
    model: z.string(),
    version: z.number().int(),
    status: z.enum(['ok', 'drifted', 'insufficient_data']),
    rows: z.number().int(),
    window_hours: z.number().int(),
    thresholds: z
      .object({ psi: nullableNumber, ks: nullableNumber })
      .openapi({ description: 'The thresholds this report judged by (null in reports made before they were kept)' }),
    features: z.array(
      z.object({
        name: z.string(),
        kind: z.enum(['numeric', 'categorical']),
        psi: z.number(),
        ks: z.number().nullable(),
        drifted: z.boolean(),
      }),
    ),
    created_at: Timestamp,
  })
  .openapi('DriftReport', { example: ex.DRIFT_REPORT });

export const DriftStatus = z
  .object({
    model: z.string(),
    version: z.number().int(),
    baseline: Baseline.nullable(),
    report: DriftReport.nullable().openapi({ description: 'The latest check; null before the first one' }),
  })
  .openapi('DriftStatus', { example: ex.DRIFT_STATUS });

export const DriftHistory = z
  .object({ reports: z.array(DriftReport), next_cursor: z.string().nullable() })
  .openapi('DriftHistory', { example: { reports: [ex.DRIFT_REPORT], next_cursor: null } });

export const RequestFailure = z
  .object({
    id: z.string(),
    request_id: z.string(),
    method: z.string(),
    route: z.string().nullable().openapi({ description: 'The route pattern, e.g. /v1/models/:name/predict' }),
    status: z.number().int(),
    code: z.string().openapi({ description: 'The error code the caller got (see the Error schema)' }),
    message: z.string(),
    model: z.string().nullable(),
    version: z.number().int().nullable(),
    created_at: Timestamp,
  })
  .openapi('RequestFailure', { example: ex.REQUEST_FAILURE });

export const RequestFailureList = z
  .object({ errors: z.array(RequestFailure), next_cursor: z.string().nullable() })
  .openapi('RequestFailureList', { example: { errors: [ex.REQUEST_FAILURE], next_cursor: null } });

/** A point in time: an ISO 8601 date-time, or a date (its midnight, UTC). */
export const Instant = z
  .string()
  .max(40)
  .transform((text, ctx) => {
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
    if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
      ctx.issues.push({
        code: 'custom',
        input: text,
        message: 'expected a date (2026-11-26) or an ISO 8601 date-time',
      });
      return z.NEVER;
    }
    return ms;
  })
  .openapi({ type: 'string', example: '2026-11-26T00:00:00Z' });
