import { and, asc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../storage/db';
import { predictionFeedback, predictionLogs } from '../../storage/schema';
import { CsvWriter, exportRows, jsonLines, type FeedbackForExport } from './rows';

/*
 * Logged predictions of a model in a time range, oldest first, with their feedback, as JSON
 * Lines or CSV text: read a page at a time (keyset over created_at and id), so an export of any
 * size holds one page in memory. The HTTP route pulls it into a response stream; the daily
 * export into R2.
 */

export type ExportFormat = 'jsonl' | 'csv';

export interface ExportQuery {
  workspaceId: string;
  model: string;
  /** Unix ms, inclusive. */
  from: number;
  /** Unix ms, exclusive. */
  to: number;
  version?: number;
  format: ExportFormat;
  /** The model's feature names, to name CSV columns of array and tensor inputs. */
  featureNames: string[] | null;
}

/** Logs per page: their ids bind one parameter each in the feedback query (D1 binds at most 100). */
export const EXPORT_PAGE = 50;

export interface ExportPage {
  text: string;
  logs: number;
  rows: number;
}

/** The export's text, page by page; an empty CSV export still has its header. */
export async function* exportPages(db: Db, query: ExportQuery): AsyncGenerator<ExportPage> {
  const csv = query.format === 'csv' ? new CsvWriter(query.featureNames) : null;
  let after: { createdAt: number; id: string } | undefined;
  for (;;) {
    const conditions: (SQL | undefined)[] = [
      eq(predictionLogs.workspaceId, query.workspaceId),
      eq(predictionLogs.model, query.model),
      gte(predictionLogs.createdAt, query.from),
      lt(predictionLogs.createdAt, query.to),
      query.version === undefined ? undefined : eq(predictionLogs.version, query.version),
      after && sql`(${predictionLogs.createdAt}, ${predictionLogs.id}) > (${after.createdAt}, ${after.id})`,
    ];
    const logs = await db
      .select({
        id: predictionLogs.id,
        model: predictionLogs.model,
        version: predictionLogs.version,
        requestId: predictionLogs.requestId,
        rows: predictionLogs.rows,
        inputs: predictionLogs.inputs,
        predicted: predictionLogs.predicted,
        createdAt: predictionLogs.createdAt,
      })
      .from(predictionLogs)
      .where(and(...conditions))
      .orderBy(asc(predictionLogs.createdAt), asc(predictionLogs.id))
      .limit(EXPORT_PAGE);
    if (logs.length === 0) {
      if (csv && after === undefined) yield { text: csv.emptyHeader(), logs: 0, rows: 0 };
      return;
    }
    const feedback = new Map<string, FeedbackForExport[]>();
    const found = await db
      .select({
        predictionId: predictionFeedback.predictionId,
        row: predictionFeedback.row,
        actual: predictionFeedback.actual,
        createdAt: predictionFeedback.createdAt,
      })
      .from(predictionFeedback)
      .where(
        inArray(
          predictionFeedback.predictionId,
          logs.map((l) => l.id),
        ),
      );
    for (const f of found)
      (feedback.get(f.predictionId) ?? feedback.set(f.predictionId, []).get(f.predictionId)!).push(f);
    const rows = logs.flatMap((log) => exportRows(log, feedback.get(log.id) ?? []));
    yield { text: csv ? csv.lines(rows) : jsonLines(rows), logs: logs.length, rows: rows.length };
    if (logs.length < EXPORT_PAGE) return;
    const last = logs[logs.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

const encoder = new TextEncoder();

/**
 * The export as a byte stream that reads a page only when the client wants more. A client that
 * goes away cancels the stream: the next page is never read, and nothing is left running.
 */
export function exportStream(db: Db, query: ExportQuery): ReadableStream<Uint8Array> {
  const pages = exportPages(db, query);
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await pages.next();
        // The client left while the page was read: the stream is closed already.
        if (cancelled) return;
        if (next.done) controller.close();
        else if (next.value.text) controller.enqueue(encoder.encode(next.value.text));
      },
      async cancel() {
        cancelled = true;
        await pages.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
