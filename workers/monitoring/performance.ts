import { and, eq, gte, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../storage/db';
import { bucketsFor } from './buckets';
import { predictionFeedback } from '../storage/schema';

/*
 * Model quality from ground truth: feedback rows (true value beside what was predicted) of
 * predictions made in the window. Classifiers: accuracy, and precision, recall and F1 per class
 * and macro-averaged over the classes seen; regressors: MAE and RMSE. Also per bucket of the
 * window, for charts.
 */

export interface ClassScores {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  perClass: Record<string, ClassScores>;
}

export interface RegressionMetrics {
  mae: number | null;
  rmse: number | null;
}

export interface Performance {
  kind: 'classification' | 'regression';
  /** The series' resolution, as the window's buckets (buckets.ts) give it. */
  stepMinutes: number;
  count: number;
  metrics: ClassificationMetrics | RegressionMetrics;
  series: { at: number; count: number; value: number | null }[];
}

interface Pair {
  actual: unknown;
  predicted: unknown;
  at: number;
}

const div = (a: number, b: number) => (b === 0 ? null : a / b);
const mean = (xs: (number | null)[]) => {
  const present = xs.filter((x): x is number => x !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
};

export function classification(pairs: { actual: string; predicted: string }[]): ClassificationMetrics {
  const classes = [...new Set(pairs.flatMap((p) => [p.actual, p.predicted]))].sort();
  const perClass: Record<string, ClassScores> = {};
  for (const label of classes) {
    const tp = pairs.filter((p) => p.predicted === label && p.actual === label).length;
    const predicted = pairs.filter((p) => p.predicted === label).length;
    const actual = pairs.filter((p) => p.actual === label).length;
    const precision = div(tp, predicted);
    const recall = div(tp, actual);
    const f1 =
      precision === null || recall === null
        ? null
        : precision + recall === 0
          ? 0
          : (2 * precision * recall) / (precision + recall);
    perClass[label] = { precision, recall, f1, support: actual };
  }
  const scores = Object.values(perClass);
  return {
    accuracy: div(pairs.filter((p) => p.actual === p.predicted).length, pairs.length),
    precision: mean(scores.map((s) => s.precision)),
    recall: mean(scores.map((s) => s.recall)),
    f1: mean(scores.map((s) => s.f1)),
    perClass,
  };
}

export function regression(pairs: { actual: number; predicted: number }[]): RegressionMetrics {
  const errors = pairs.map((p) => p.predicted - p.actual);
  return {
    mae: div(
      errors.reduce((a, e) => a + Math.abs(e), 0),
      errors.length,
    ),
    rmse: errors.length === 0 ? null : Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length),
  };
}

/** Labels as strings; a numeric class index maps to its label when the model has labels. */
const asLabel = (value: unknown, labels: string[] | null) =>
  typeof value === 'number' && labels?.[value] !== undefined ? labels[value]! : String(value);

/** A model's task decides; a model of task `other` is a regressor when every value is a number. */
export function kindOf(task: string, pairs: { actual: unknown; predicted: unknown }[]): Performance['kind'] {
  const numeric =
    pairs.length > 0 && pairs.every((p) => typeof p.actual === 'number' && typeof p.predicted === 'number');
  return task === 'classification' || (task !== 'regression' && !numeric) ? 'classification' : 'regression';
}

export function scorePairs(
  kind: Performance['kind'],
  pairs: { actual: unknown; predicted: unknown }[],
  classLabels: string[] | null,
): ClassificationMetrics | RegressionMetrics {
  return kind === 'classification'
    ? classification(
        pairs.map((p) => ({ actual: asLabel(p.actual, classLabels), predicted: asLabel(p.predicted, classLabels) })),
      )
    : regression(pairs.map((p) => ({ actual: Number(p.actual), predicted: Number(p.predicted) })));
}

export interface VersionQuality {
  workspaceId: string;
  model: string;
  version: number;
  kind: Performance['kind'];
  /** Rows with feedback that could be scored. */
  count: number;
  accuracy: number | null;
  mae: number | null;
}

/**
 * Accuracy or MAE of every version with feedback on predictions made in the window (of one
 * workspace, or all): the quality gauges of /metrics. Aggregated in D1, since a scrape covers
 * every model's day of feedback: the same figures as scorePairs (a class index read as its
 * label), without reading the rows out.
 */
export async function qualityByVersion(
  db: Db,
  workspaceId: string | undefined,
  windowMinutes: number,
  now = Date.now(),
): Promise<VersionQuality[]> {
  const numeric = (v: SQL) => sql`json_type(${v}) in ('integer', 'real')`;
  // A class index within the labels reads as its label (any other integer, e.g. -1, as itself).
  const label = (v: SQL) => sql`case
      when json_type(${v}) = 'integer' and ${v} >= 0 and ${v} < json_array_length(m.class_labels)
        then json_extract(m.class_labels, '$[' || ${v} || ']')
      when json_type(${v}) = 'text' then json_extract(${v}, '$')
      else ${v} end`;
  const actual = sql`f.actual`;
  const predicted = sql`f.predicted`;
  const rows = await db.all<{
    workspace_id: string;
    model: string;
    version: number;
    task: string;
    n: number;
    numeric_n: number;
    mae: number | null;
    accuracy: number;
  }>(sql`
    select f.workspace_id, f.model, f.version, m.task, count(*) as n,
      sum(${numeric(actual)} and ${numeric(predicted)}) as numeric_n,
      avg(case when ${numeric(actual)} and ${numeric(predicted)} then abs(${actual} - ${predicted}) end) as mae,
      avg(${label(actual)} = ${label(predicted)}) as accuracy
    from prediction_feedback f
    join models m on m.workspace_id = f.workspace_id and m.name = f.model
    where f.predicted_at >= ${now - windowMinutes * 60000} and f.predicted is not null
      ${workspaceId === undefined ? sql`` : sql`and f.workspace_id = ${workspaceId}`}
    group by f.workspace_id, f.model, f.version
    order by f.workspace_id, f.model, f.version`);
  return rows.map((r) => {
    // As kindOf: the task decides; a model of task `other` is a regressor when every value is a number.
    const kind =
      r.task === 'classification' || (r.task !== 'regression' && r.numeric_n < r.n) ? 'classification' : 'regression';
    return {
      workspaceId: r.workspace_id,
      model: r.model,
      version: r.version,
      kind,
      count: r.n,
      accuracy: kind === 'classification' ? r.accuracy : null,
      mae: kind === 'regression' ? r.mae : null,
    };
  });
}

export async function modelPerformance(
  db: Db,
  workspaceId: string,
  model: string,
  options: { task: string; classLabels: string[] | null; windowMinutes: number; version?: number },
  now = Date.now(),
): Promise<Performance> {
  const from = now - options.windowMinutes * 60000;
  const rows = await db
    .select({
      actual: predictionFeedback.actual,
      predicted: predictionFeedback.predicted,
      at: predictionFeedback.predictedAt,
      version: predictionFeedback.version,
    })
    .from(predictionFeedback)
    .where(
      and(
        eq(predictionFeedback.workspaceId, workspaceId),
        eq(predictionFeedback.model, model),
        gte(predictionFeedback.predictedAt, from),
      ),
    );
  // Feedback on a row whose predicted value was not logged (cut from a large log, or outputs
  // not batched by row) is kept but cannot be scored.
  const pairs: Pair[] = rows.filter(
    (r) => r.predicted !== null && (options.version === undefined || r.version === options.version),
  );
  const kind = kindOf(options.task, pairs);
  const score = (subset: Pair[]) => scorePairs(kind, subset, options.classLabels);
  const { stepMinutes, starts } = bucketsFor(options.windowMinutes, now);
  const width = stepMinutes * 60000;
  const perBucket = new Map<number, Pair[]>();
  for (const p of pairs) {
    const at = Math.floor(p.at / width) * width;
    (perBucket.get(at) ?? perBucket.set(at, []).get(at)!).push(p);
  }
  const series = starts.map((minute) => {
    const subset = perBucket.get(minute * 60000) ?? [];
    const m = score(subset);
    return { at: minute * 60000, count: subset.length, value: 'accuracy' in m ? m.accuracy : m.mae };
  });
  return { kind, stepMinutes, count: pairs.length, metrics: score(pairs), series };
}
