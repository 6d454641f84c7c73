import { asc, eq } from 'drizzle-orm';
import type { BatchDeps } from './deps';
import { conflict } from '../core/errors';
import type { Scope } from '../registry/types';
import { chunkResultKey } from '../storage/r2-keys';
import { jobChunks } from '../storage/schema';
import { ENDED, requireJob } from './jobs';

const encoder = new TextEncoder();

/**
 * A job's results as one JSONL stream in input order: the chunks' result files one after the
 * other, each streamed from R2. Rows of a cancelled job that never ran get an error line, so
 * there is always one line per input row.
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
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const pump = async () => {
    for (const chunk of chunks) {
      const object =
        chunk.status === 'pending' ? null : await deps.bucket.get(chunkResultKey(job.workspaceId, jobId, chunk.index));
      if (object) {
        await object.body.pipeTo(writable, { preventClose: true });
        continue;
      }
      const writer = writable.getWriter();
      const reason =
        job.status === 'cancelled'
          ? 'the job was cancelled before this row ran'
          : 'no result was recorded for this row';
      for (let k = 0; k < chunk.rowCount; k++) {
        await writer.write(encoder.encode(`${JSON.stringify({ index: chunk.firstRow + k, error: reason })}\n`));
      }
      writer.releaseLock();
    }
    await writable.close();
  };
  deps.defer(pump().catch((err) => writable.abort(err)));
  return readable;
}
