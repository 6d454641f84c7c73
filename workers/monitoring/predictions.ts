import { and, eq, lt, type SQL } from 'drizzle-orm';
import { conflict, invalidInput, notFound } from '../core/errors';
import { requireJsonDepth } from '../core/json-depth';
import { newId } from '../core/ids';
import type { Scope } from '../registry/types';
import type { Db } from '../storage/db';
import { newestFirst, pageOf, type Page } from '../storage/paging';
import { predictionFeedback, predictionLogs } from '../storage/schema';
import type { ObserveDeps } from './observe';

export type PredictionRow = typeof predictionLogs.$inferSelect;

/** Inputs larger than this are logged as a note of their size, not their content. */
const MAX_LOGGED_INPUT_BYTES = 256 * 1024;

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

/**
 * Logs a prediction with probability `rate` and answers its id (or undefined when not sampled).
 * The write happens after the response; the id is usable as soon as the client has it.
 */
export function maybeLogPrediction(deps: ObserveDeps, rate: number, build: () => PredictionRecord): string | undefined {
  if (rate <= 0 || Math.random() >= rate) return undefined;
  const record = build();
  const id = newId('prd');
  const inputs =
    record.inputs.length > MAX_LOGGED_INPUT_BYTES
      ? JSON.stringify({ truncated: true, bytes: record.inputs.length })
      : record.inputs;
  deps.defer(
    deps.db
      .insert(predictionLogs)
      .values({ ...record, id, inputs, createdAt: Date.now() })
      .then(() => undefined),
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

/**
 * Records the true values of a logged prediction, one per row. Feedback is final: a row that
 * already has it answers 409, so a retried call cannot count twice.
 */
export async function recordFeedback(db: Db, scope: Scope, id: string, actual: unknown[]): Promise<number> {
  actual.forEach((value, row) => requireJsonDepth(value, `the true value of row ${row}`));
  const prediction = await requirePrediction(db, scope, id);
  if (actual.length !== prediction.rows) {
    throw invalidInput(
      `prediction '${id}' has ${prediction.rows} row${prediction.rows === 1 ? '' : 's'}; send one true value per row`,
    );
  }
  const now = Date.now();
  const inserted = await db
    .insert(predictionFeedback)
    .values(
      actual.map((value, row) => ({
        predictionId: id,
        row,
        workspaceId: prediction.workspaceId,
        model: prediction.model,
        version: prediction.version,
        actual: value,
        predicted: prediction.predicted?.[row] ?? null,
        predictedAt: prediction.createdAt,
        createdAt: now,
      })),
    )
    .onConflictDoNothing()
    .returning({ row: predictionFeedback.row });
  if (inserted.length === 0) throw conflict(`prediction '${id}' already has feedback`, { code: 'feedback_exists' });
  return inserted.length;
}

/** Deletes logged predictions (and their feedback) older than the retention. */
export async function pruneLogs(db: Db, olderThan: number): Promise<void> {
  await db.batch([
    db.delete(predictionFeedback).where(lt(predictionFeedback.predictedAt, olderThan)),
    db.delete(predictionLogs).where(lt(predictionLogs.createdAt, olderThan)),
  ]);
}
