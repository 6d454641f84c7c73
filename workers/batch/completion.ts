import { and, eq, sql } from 'drizzle-orm';
import type { BatchDeps } from './deps';
import { jobChunks, jobs, type JobStatus } from '../storage/schema';
import { errorFields } from '../core/logger';
import { emitEvent } from '../webhooks/events';
import { ENDED, jobEventData } from './jobs';
import { joinResults } from './results';

/**
 * Ends the job once no chunk is pending, its results joined into one object first (so they are
 * ready as one when the job is seen ended). The conditional update lets exactly one caller win,
 * however many chunks finish at the same moment, so the completion event is sent once.
 */
export async function finishIfDone(deps: BatchDeps, jobId: string): Promise<JobStatus | undefined> {
  const [totals] = await deps.db
    .select({
      pending: sql<number>`coalesce(sum(${jobChunks.status} = 'pending'), 0)`,
      ok: sql<number>`coalesce(sum(${jobChunks.rowsOk}), 0)`,
      failed: sql<number>`coalesce(sum(${jobChunks.rowsFailed}), 0)`,
    })
    .from(jobChunks)
    .where(eq(jobChunks.jobId, jobId));
  if (!totals || totals.pending > 0) return undefined;
  const [job] = await deps.db
    .select({ id: jobs.id, workspaceId: jobs.workspaceId, status: jobs.status })
    .from(jobs)
    .where(eq(jobs.id, jobId));
  if (!job || ENDED.includes(job.status)) return undefined;
  // Not joined, the results are still served, chunk by chunk.
  await joinResults(deps, job).catch((err: unknown) =>
    deps.logger.warn('job results not joined into one object', { job: jobId, ...errorFields(err) }),
  );
  const status: JobStatus = totals.failed === 0 ? 'succeeded' : totals.ok === 0 ? 'failed' : 'partially_failed';
  return endJob(deps, jobId, status, null);
}

/** Moves a running or queued job to a final status once; announces it to webhooks. */
export async function endJob(
  deps: BatchDeps,
  jobId: string,
  status: Exclude<JobStatus, 'queued' | 'running' | 'cancelled'>,
  error: string | null,
): Promise<JobStatus | undefined> {
  const [ended] = await deps.db
    .update(jobs)
    .set({ status, error, finishedAt: Date.now() })
    .where(and(eq(jobs.id, jobId), sql`${jobs.status} in ('queued', 'running')`))
    .returning();
  if (!ended) return undefined;
  await emitEvent(deps, ended.workspaceId, `job.${status}`, jobEventData(ended), jobId);
  return status;
}
