import { and, asc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { conflict, invalidInput, notFound } from '../core/errors';
import { requireJsonDepth } from '../core/json-depth';
import { newId } from '../core/ids';
import type { Scope } from '../registry/types';
import type { Db } from '../storage/db';
import { newestFirst, pageOf, type Page } from '../storage/paging';
import { predictionFeedback, predictionLogs, type PredictionTruncation } from '../storage/schema';
import { errorFields } from '../core/logger';
import { utf8Bytes } from '../core/utf8';
import type { ObserveDeps } from './observe';

export type PredictionRow = typeof predictionLogs.$inferSelect;

/*
 * A logged row must fit D1's 2 MB row limit whatever the request (local D1 does not enforce
 * it): inputs, outputs and the per-row predicted values each get a budget, and what does not
 * fit is cut and said so in the row, so that an id handed out can always be read and given
 * feedback. Inputs and outputs over budget are replaced by {"truncated": true, "bytes": N};
 * `predicted` keeps the leading rows that fit. With the ids, names and counts (at most a few
 * hundred bytes) a row stays under LOGGED_ROW_BUDGET.
 */
export const MAX_LOGGED_INPUT_BYTES = 256 * 1024;
export const MAX_LOGGED_OUTPUT_BYTES = 256 * 1024;
export const MAX_LOGGED_PREDICTED_BYTES = 256 * 1024;
export const LOGGED_ROW_BUDGET = 1024 * 1024;

export interface PredictionRecord {
  workspaceId: string;
  model: string;
  version: number;
  requestId: string;
  inputs: string;
  outputs: string;
  predicted: unknown[] | null;
  rows: number;
  cache: string;
}

function capped(json: string, max: number): { value: string; bytes?: number } {
  const bytes = utf8Bytes(json);
  return bytes <= max ? { value: json } : { value: JSON.stringify({ truncated: true, bytes }), bytes };
}

/** The leading rows' predicted values whose JSON fits `max` bytes. */
function cappedPredicted(predicted: unknown[], max: number): { value: unknown[]; cut: boolean } {
  let bytes = 2; // the brackets
  for (let i = 0; i < predicted.length; i++) {
    bytes += utf8Bytes(JSON.stringify(predicted[i]) ?? 'null') + (i > 0 ? 1 : 0);
    if (bytes > max) return { value: predicted.slice(0, i), cut: true };
  }
  return { value: predicted, cut: false };
}

/** The row as stored: every part within its budget, and what was cut. */
export function loggedRow(record: PredictionRecord): Omit<PredictionRecord, 'predicted'> & {
  predicted: unknown[] | null;
  truncated: PredictionTruncation | null;
} {
  const inputs = capped(record.inputs, MAX_LOGGED_INPUT_BYTES);
  const outputs = capped(record.outputs, MAX_LOGGED_OUTPUT_BYTES);
  const predicted = record.predicted && cappedPredicted(record.predicted, MAX_LOGGED_PREDICTED_BYTES);
  const truncated: PredictionTruncation = {
    ...(inputs.bytes !== undefined && { inputs: { bytes: inputs.bytes } }),
    ...(outputs.bytes !== undefined && { outputs: { bytes: outputs.bytes } }),
    ...(predicted?.cut && { predicted: { rows: record.predicted!.length, kept: predicted.value.length } }),
  };
  return {
    ...record,
    inputs: inputs.value,
    outputs: outputs.value,
    predicted: predicted ? predicted.value : null,
    truncated: Object.keys(truncated).length > 0 ? truncated : null,
  };
}

/**
 * Logs a prediction with probability `rate` and answers its id (or undefined when not sampled).
 * The write happens after the response; the id is usable as soon as the client has it. A
 * failed write is logged by its error class and D1's message, never the values it carried.
 */
export function maybeLogPrediction(deps: ObserveDeps, rate: number, build: () => PredictionRecord): string | undefined {
  if (rate <= 0 || Math.random() >= rate) return undefined;
  const row = loggedRow(build());
  const id = newId('prd');
  deps.defer(
    deps.db
      .insert(predictionLogs)
      .values({ ...row, id, createdAt: Date.now() })
      .then(
        () => undefined,
        (err: unknown) => {
          deps.logger.error('prediction log not written', {
            prediction_id: id,
            model: row.model,
            version: row.version,
            ...errorFields(err),
          });
        },
      ),
  );
  return id;
}

export async function requirePrediction(db: Db, scope: Scope, id: string): Promise<PredictionRow> {
  const row = await db.query.predictionLogs.findFirst({
    where: and(eq(predictionLogs.id, id), eq(predictionLogs.workspaceId, scope.workspaceId)),
  });
  if (!row)
    throw notFound(`prediction '${id}' not found (only sampled predictions are logged)`, {
      code: 'prediction_not_found',
    });
  return row;
}

export async function listPredictions(
  db: Db,
  scope: Scope,
  model: string,
  query: { limit: number; cursor?: string; version?: number },
): Promise<Page<PredictionRow>> {
  const { after, orderBy } = newestFirst(predictionLogs.createdAt, predictionLogs.id, query.cursor);
  const conditions: (SQL | undefined)[] = [
    eq(predictionLogs.workspaceId, scope.workspaceId),
    eq(predictionLogs.model, model),
    after,
  ];
  if (query.version !== undefined) conditions.push(eq(predictionLogs.version, query.version));
  const rows = await db
    .select()
    .from(predictionLogs)
    .where(and(...conditions))
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  return pageOf(rows, query.limit, (r) => [r.createdAt, r.id]);
}

/** Rows of a prediction's feedback that a listing shows (a prediction may have thousands). */
export const FEEDBACK_ROWS_SHOWN = 100;

export interface LoggedFeedback {
  /** The true value of each row, in row order: the first FEEDBACK_ROWS_SHOWN. */
  actual: unknown[];
  receivedAt: number;
}

/**
 * The feedback of logged predictions, by prediction id: what the prediction browser shows
 * beside each. Feedback comes for every row of a prediction at once (recordFeedback).
 */
export async function feedbackFor(db: Db, workspaceId: string, ids: string[]): Promise<Map<string, LoggedFeedback>> {
  const found = new Map<string, LoggedFeedback>();
  if (ids.length === 0) return found;
  const rows = await db
    .select({
      id: predictionFeedback.predictionId,
      actual: predictionFeedback.actual,
      createdAt: predictionFeedback.createdAt,
    })
    .from(predictionFeedback)
    .where(
      and(
        inArray(predictionFeedback.predictionId, ids),
        eq(predictionFeedback.workspaceId, workspaceId),
        lt(predictionFeedback.row, FEEDBACK_ROWS_SHOWN),
      ),
    )
    .orderBy(asc(predictionFeedback.predictionId), asc(predictionFeedback.row));
  for (const r of rows) {
    const entry = found.get(r.id) ?? found.set(r.id, { actual: [], receivedAt: r.createdAt }).get(r.id)!;
    entry.actual.push(r.actual);
    entry.receivedAt = Math.max(entry.receivedAt, r.createdAt);
  }
  return found;
}

/**
 * Records the true values of a logged prediction, one per row. Feedback is final: a row that
 * already has it answers 409, so a retried call cannot count twice. A row whose predicted value
 * was cut from the log (see loggedRow) is recorded with none: it is kept, but cannot be scored.
 * One statement whatever the row count: the rows travel as two JSON parameters, since D1 binds
 * at most 100 parameters per statement (a 12-row prediction's feedback exceeded it).
 */
export async function recordFeedback(db: Db, scope: Scope, id: string, actual: unknown[]): Promise<number> {
  actual.forEach((value, row) => requireJsonDepth(value, `the true value of row ${row}`));
  const prediction = await requirePrediction(db, scope, id);
  if (actual.length !== prediction.rows) {
    throw invalidInput(
      `prediction '${id}' has ${prediction.rows} row${prediction.rows === 1 ? '' : 's'}; send one true value per row`,
    );
  }
  // Per row, [actual, predicted] each as its own JSON text, so that json_extract hands back the
  // exact text (strings quoted, true not 1, 17 digits kept); a cut predicted value is null.
  const logged = prediction.predicted ?? [];
  const pairs = JSON.stringify(
    actual.map((value, row) => [
      JSON.stringify(value ?? null),
      row < logged.length ? JSON.stringify(logged[row] ?? null) : null,
    ]),
  );
  const result = await db.run(sql`
    insert into prediction_feedback
      (prediction_id, "row", workspace_id, model, version, actual, predicted, predicted_at, created_at)
    select ${id}, cast(r.key as integer), ${prediction.workspaceId}, ${prediction.model}, ${prediction.version},
      json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), ${prediction.createdAt}, ${Date.now()}
    from json_each(${pairs}) as r
    where true
    on conflict do nothing`);
  const inserted = result.meta.changes;
  if (inserted === 0) throw conflict(`prediction '${id}' already has feedback`, { code: 'feedback_exists' });
  return inserted;
}

/** Deletes logged predictions (and their feedback) older than the retention. */
export async function pruneLogs(db: Db, olderThan: number): Promise<void> {
  await db.batch([
    db.delete(predictionFeedback).where(lt(predictionFeedback.predictedAt, olderThan)),
    db.delete(predictionLogs).where(lt(predictionLogs.createdAt, olderThan)),
  ]);
}
