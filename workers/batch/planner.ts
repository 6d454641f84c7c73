import { and, eq } from 'drizzle-orm';
import type { BatchDeps } from './deps';
import { jobChunks, jobs } from '../storage/schema';
import { endJob } from './completion';
import type { BatchMessage } from './messages';
import { planChunks } from './plan-chunks';

/** D1 binds at most 100 parameters per statement; a chunk row binds all 13 of its columns. */
const CHUNK_ROWS_PER_INSERT = 7;
const MESSAGES_PER_SEND = 100;

/**
 * The first step of a job: read the input once, record its chunks and queue one message per
 * chunk. Safe to run twice (a redelivered message): chunks are inserted only if absent, the
 * job moves to running only from queued, and repeated chunk messages are skipped by the consumer.
 */
export async function planJob(deps: BatchDeps, jobId: string): Promise<void> {
  const job = await deps.db.query.jobs.findFirst({ where: eq(jobs.id, jobId) });
  if (!job || (job.status !== 'queued' && job.status !== 'running')) return;
  const object = await deps.bucket.get(job.inputKey);
  if (!object) {
    await endJob(deps, jobId, 'failed', 'the input file no longer exists');
    return;
  }
  const { rows, chunks } = await planChunks(object.body, job.chunkSize);
  if (rows === 0) {
    await endJob(deps, jobId, 'failed', 'the input has no rows');
    return;
  }
  const now = Date.now();
  const values = chunks.map((c) => ({ jobId, ...c, updatedAt: now }));
  const inserts = [];
  for (let i = 0; i < values.length; i += CHUNK_ROWS_PER_INSERT) {
    inserts.push(
      deps.db
        .insert(jobChunks)
        .values(values.slice(i, i + CHUNK_ROWS_PER_INSERT))
        .onConflictDoNothing(),
    );
  }
  const start = deps.db
    .update(jobs)
    .set({ status: 'running', rowsTotal: rows, chunksTotal: chunks.length, startedAt: now })
    .where(and(eq(jobs.id, jobId), eq(jobs.status, 'queued')));
  await deps.db.batch([start, ...inserts] as [typeof start, ...typeof inserts]);
  const messages = chunks.map((c) => ({ body: { kind: 'chunk', jobId, index: c.index } satisfies BatchMessage }));
  for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND) {
    await deps.batchQueue.sendBatch(messages.slice(i, i + MESSAGES_PER_SEND));
  }
}
