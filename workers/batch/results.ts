import { asc, eq } from 'drizzle-orm';
import type { BatchDeps } from './deps';
import { conflict } from '../core/errors';
import { sequenceStream } from '../core/streams';
import type { Scope } from '../registry/types';
import { chunkResultKey } from '../storage/r2-keys';
import { jobChunks } from '../storage/schema';
import { ENDED, requireJob } from './jobs';

const encoder = new TextEncoder();

/**
 * A job's results as one JSONL stream in input order: the chunks' result files one after the
 * other, each streamed from R2. Rows of a cancelled job that never ran get an error line, so
 * there is always one line per input row. Read only as the client reads (sequenceStream): a
 * client that stops early stops the reading, and nothing is left running.
 */
export async function streamResults(deps: BatchDeps, scope: Scope, jobId: string): Promise<ReadableStream<Uint8Array>> {
  const job = await requireJob(deps, scope, jobId);
  if (!ENDED.includes(job.status)) {
    throw conflict(`job '${jobId}' is ${job.status}; its results are ready when it ends`, { code: 'job_not_finished' });
  }
  const chunks = await deps.db
    .select({
      index: jobChunks.index,
      status: jobChunks.status,
      firstRow: jobChunks.firstRow,
      rowCount: jobChunks.rowCount,
    })
    .from(jobChunks)
    .where(eq(jobChunks.jobId, jobId))
    .orderBy(asc(jobChunks.index));
  const reason =
    job.status === 'cancelled' ? 'the job was cancelled before this row ran' : 'no result was recorded for this row';
  const part = async (chunk: (typeof chunks)[number]) => {
    const object =
      chunk.status === 'pending' ? null : await deps.bucket.get(chunkResultKey(job.workspaceId, jobId, chunk.index));
    if (object) return object.body;
    let lines = '';
    for (let k = 0; k < chunk.rowCount; k++) {
      lines += `${JSON.stringify({ index: chunk.firstRow + k, error: reason })}\n`;
    }
    return encoder.encode(lines);
  };
  // One chunk: R2's own stream, which the runtime sends without running any of our code, so a
  // client that leaves early ends it without a trace. Several: pulled one after the other.
  const first = chunks.length === 1 ? await part(chunks[0]!) : undefined;
  if (first && !(first instanceof Uint8Array)) return first;
  let at = 0;
  return sequenceStream(async () => {
    const chunk = chunks[at++];
    if (!chunk) return undefined;
    return at === 1 && first ? first : part(chunk);
  });
}
