import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from '../storage/db';
import {
  alertEvents,
  alertRules,
  driftBaselines,
  driftBins,
  driftCapturedRows,
  driftReports,
  metricRollups,
  metricTotals,
  predictionFeedback,
  predictionLogs,
  requestFailures,
} from '../storage/schema';
import type { DriftCounts } from './drift/observe-features';
import type { FailureLog } from './failures';
import type { Metrics } from './observe';

/*
 * Everything monitoring keeps about one model, deleted for a purge: prediction logs and their
 * feedback, metric rollups and totals, alert rules and history, failed requests (keyed by the
 * model's name and version numbers, which a new model of the same name reuses), and drift data
 * (keyed by version ids, never reused, but gone all the same). Counts and failures still
 * buffered in this isolate are dropped too, so they are not written after the purge under a
 * name a new model may take.
 */

/** Ids per statement: D1 binds at most 100 parameters. */
const IDS_PER_STATEMENT = 90;
/** Rows per delete: one statement deleting millions of rows could outlast D1's query time limit. */
const ROWS_PER_DELETE = 5000;

/** Deletes what `where` matches, ROWS_PER_DELETE rows at a time; answers how many. */
async function deleteInRounds(db: Db, table: SQLiteTable, where: SQL): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await db.run(
      sql`delete from ${table} where rowid in (select rowid from ${table} where ${where} limit ${ROWS_PER_DELETE})`,
    );
    deleted += result.meta.changes;
    if (result.meta.changes < ROWS_PER_DELETE) return deleted;
  }
}

// A type, not an interface: it goes into the audit log's details, a plain record.
export type ForgottenCounts = {
  predictions: number;
  feedback: number;
  metricRows: number;
  driftRows: number;
  /** Alert rules and their history. */
  alertRows: number;
  failedRequests: number;
};

export interface ForgetDeps {
  db: Db;
  metrics: Metrics;
  drift: DriftCounts;
  failures: FailureLog;
}

export async function forgetModelMonitoring(
  deps: ForgetDeps,
  model: { workspaceId: string; name: string },
  versionIds: string[],
): Promise<ForgottenCounts> {
  const { db } = deps;
  deps.metrics.forgetModel(model.workspaceId, model.name);
  deps.drift.forgetVersions(versionIds);
  deps.failures.forgetModel(model.workspaceId, model.name);
  const { workspaceId, name } = model;
  const counts: ForgottenCounts = {
    feedback: await deleteInRounds(
      db,
      predictionFeedback,
      and(eq(predictionFeedback.workspaceId, workspaceId), eq(predictionFeedback.model, name))!,
    ),
    predictions: await deleteInRounds(
      db,
      predictionLogs,
      and(eq(predictionLogs.workspaceId, workspaceId), eq(predictionLogs.model, name))!,
    ),
    metricRows:
      (await deleteInRounds(
        db,
        metricRollups,
        and(eq(metricRollups.workspaceId, workspaceId), eq(metricRollups.model, name))!,
      )) +
      (await deleteInRounds(
        db,
        metricTotals,
        and(eq(metricTotals.workspaceId, workspaceId), eq(metricTotals.model, name))!,
      )),
    driftRows: await deleteInRounds(
      db,
      driftReports,
      and(eq(driftReports.workspaceId, workspaceId), eq(driftReports.model, name))!,
    ),
    alertRows:
      (await deleteInRounds(
        db,
        alertRules,
        and(eq(alertRules.workspaceId, workspaceId), eq(alertRules.model, name))!,
      )) +
      (await deleteInRounds(
        db,
        alertEvents,
        and(eq(alertEvents.workspaceId, workspaceId), eq(alertEvents.model, name))!,
      )),
    failedRequests: await deleteInRounds(
      db,
      requestFailures,
      and(eq(requestFailures.workspaceId, workspaceId), eq(requestFailures.model, name))!,
    ),
  };
  for (let i = 0; i < versionIds.length; i += IDS_PER_STATEMENT) {
    const ids = versionIds.slice(i, i + IDS_PER_STATEMENT);
    counts.driftRows +=
      (await deleteInRounds(db, driftBins, inArray(driftBins.versionId, ids))) +
      (await deleteInRounds(db, driftCapturedRows, inArray(driftCapturedRows.versionId, ids))) +
      (await deleteInRounds(db, driftBaselines, inArray(driftBaselines.versionId, ids)));
  }
  return counts;
}
