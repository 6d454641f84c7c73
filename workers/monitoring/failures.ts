import { and, eq, sql, type SQL } from 'drizzle-orm';
import { newId } from '../core/ids';
import type { Scope } from '../registry/types';
import type { Db } from '../storage/db';
import { newestFirst, pageOf, type Page } from '../storage/paging';
import { requestFailures } from '../storage/schema';
import { FlushSchedule } from './flush-schedule';
import type { ObserveDeps } from './observe';

/*
 * The latest failing requests of each workspace, with the code and message their caller got:
 * what the dashboard's errors view lists. Like the counts, they are buffered in the isolate and
 * written in one batch after the responses; a burst keeps only the newest MAX_BUFFERED per
 * flush (the counts still count every failure), so an error storm cannot turn into a write storm.
 */

export const MAX_BUFFERED = 20;
/** Messages are written for the caller and short; a long one is cut. */
const MAX_MESSAGE_CHARS = 500;

export type FailureRow = typeof requestFailures.$inferSelect;
export type Failure = Omit<FailureRow, 'id' | 'createdAt'>;

export class FailureLog {
  private buffer: FailureRow[] = [];
  private since = 0;
  private readonly schedule = new FlushSchedule((db) => this.flush(db));

  record(deps: ObserveDeps, failure: Failure, at = Date.now()): void {
    const message =
      failure.message.length > MAX_MESSAGE_CHARS ? `${failure.message.slice(0, MAX_MESSAGE_CHARS)}…` : failure.message;
    this.buffer.push({ ...failure, message, id: newId('rqf'), createdAt: at });
    if (this.buffer.length > MAX_BUFFERED) this.buffer.shift();
    if (this.since === 0) this.since = at;
    const due = at - this.since >= deps.config.METRICS_FLUSH_SECONDS * 1000 || this.buffer.length >= MAX_BUFFERED;
    this.schedule.afterCount(deps, due);
  }

  /** Drops what is buffered for a purged model. */
  forgetModel(workspaceId: string, model: string): void {
    this.buffer = this.buffer.filter((f) => f.workspaceId !== workspaceId || f.model !== model);
  }

  /**
   * One statement whatever the count: the rows travel as one JSON parameter (D1 binds at most
   * 100 per statement), so a flush is one round trip and never a batch.
   */
  async flush(db: Db): Promise<void> {
    const taken = this.buffer;
    this.buffer = [];
    this.since = 0;
    if (taken.length === 0) return;
    const rows = JSON.stringify(
      taken.map((f) => [
        f.id,
        f.workspaceId,
        f.model,
        f.version,
        f.requestId,
        f.method,
        f.route,
        f.status,
        f.code,
        f.message,
        f.createdAt,
      ]),
    );
    await db.run(sql`
      insert into request_failures
        (id, workspace_id, model, version, request_id, method, route, status, code, message, created_at)
      select json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'),
        json_extract(r.value, '$[3]'), json_extract(r.value, '$[4]'), json_extract(r.value, '$[5]'),
        json_extract(r.value, '$[6]'), json_extract(r.value, '$[7]'), json_extract(r.value, '$[8]'),
        json_extract(r.value, '$[9]'), json_extract(r.value, '$[10]')
      from json_each(${rows}) as r`);
  }
}

/** Failing requests of a workspace (of one model, if given), newest first. */
export async function listFailures(
  db: Db,
  scope: Scope,
  query: { model?: string; limit: number; cursor?: string },
): Promise<Page<FailureRow>> {
  const { after, orderBy } = newestFirst(requestFailures.createdAt, requestFailures.id, query.cursor);
  const conditions: (SQL | undefined)[] = [eq(requestFailures.workspaceId, scope.workspaceId), after];
  if (query.model !== undefined) conditions.push(eq(requestFailures.model, query.model));
  const rows = await db
    .select()
    .from(requestFailures)
    .where(and(...conditions))
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  return pageOf(rows, query.limit, (r) => [r.createdAt, r.id]);
}
