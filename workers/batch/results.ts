import { asc, eq } from 'drizzle-orm';
import type { BatchDeps } from './deps';
import { conflict } from '../core/errors';
import { sequenceStream } from '../core/streams';
import type { Scope } from '../registry/types';
import { chunkResultKey, jobResultsKey } from '../storage/r2-keys';
import { jobChunks, jobs } from '../storage/schema';
import { ENDED, requireJob } from './jobs';

/*
 * A job's results are one JSONL stream in input order: the chunks' result files one after the
 * other. Rows that never ran (a cancelled job, a chunk that left no file) get an error line, so
 * there is always one line per input row.
 *
 * Served as one R2 object whenever possible: a response whose body is R2's own stream is sent by
 * the runtime without running any of our code, so a client that stops reading early simply ends
 * it. A body our code produces keeps the request alive while it streams, and the runtime reports
 * a client that leaves as an uncaught "Network connection lost". So the chunks are joined into
 * one object (jobResultsKey) before the job is marked ended; a job of one chunk has it already.
 */

const encoder = new TextEncoder();

type JobRef = Pick<typeof jobs.$inferSelect, 'id' | 'workspaceId' | 'status'>;
type ChunkRef = Pick<typeof jobChunks.$inferSelect, 'index' | 'status' | 'firstRow' | 'rowCount'>;

/** A chunk's part of the results: its file in R2, or generated error lines. */
type Part = { key: string; size: number } | { bytes: Uint8Array };

async function chunksOf(deps: BatchDeps, jobId: string): Promise<ChunkRef[]> {
  return deps.db
    .select({
      index: jobChunks.index,
      status: jobChunks.status,
      firstRow: jobChunks.firstRow,
      rowCount: jobChunks.rowCount,
    })
    .from(jobChunks)
    .where(eq(jobChunks.jobId, jobId))
    .orderBy(asc(jobChunks.index));
}

function missingRows(chunk: ChunkRef, reason: string): Uint8Array {
  let lines = '';
  for (let k = 0; k < chunk.rowCount; k++) lines += `${JSON.stringify({ index: chunk.firstRow + k, error: reason })}\n`;
  return encoder.encode(lines);
}

const reasonFor = (job: JobRef) =>
  job.status === 'cancelled' ? 'the job was cancelled before this row ran' : 'no result was recorded for this row';

/** Where each chunk's lines are, with sizes (R2 heads, no bodies opened). */
async function partsOf(deps: BatchDeps, job: JobRef, chunks: ChunkRef[]): Promise<Part[]> {
  return Promise.all(
    chunks.map(async (chunk): Promise<Part> => {
      const key = chunkResultKey(job.workspaceId, job.id, chunk.index);
      const head = chunk.status === 'pending' ? null : await deps.bucket.head(key);
      return head ? { key, size: head.size } : { bytes: missingRows(chunk, reasonFor(job)) };
    }),
  );
}

/** The part's bytes as a stream (or bytes); a file gone since its head reads as missing rows. */
async function open(deps: BatchDeps, job: JobRef, chunk: ChunkRef, part: Part) {
  if ('bytes' in part) return part.bytes;
  const object = await deps.bucket.get(part.key);
  return object ? object.body : missingRows(chunk, reasonFor(job));
}

/**
 * Joins the chunks' result files into the job's one results object. Called when no chunk is
 * pending, before the job is marked ended; two chunks that finish together may both call it,
 * and both write the same bytes to the same key.
 */
export async function joinResults(deps: BatchDeps, job: JobRef): Promise<void> {
  const chunks = await chunksOf(deps, job.id);
  if (chunks.length < 2) return;
  const parts = await partsOf(deps, job, chunks);
  const total = parts.reduce((sum, p) => sum + ('bytes' in p ? p.bytes.byteLength : p.size), 0);
  const { readable, writable } = new FixedLengthStream(total);
  const writing = (async () => {
    for (const [k, part] of parts.entries()) {
      const body = await open(deps, job, chunks[k]!, part);
      if (body instanceof Uint8Array) {
        const writer = writable.getWriter();
        await writer.write(body);
        writer.releaseLock();
      } else {
        await body.pipeTo(writable, { preventClose: true });
      }
    }
    await writable.close();
  })();
  // Either side failing stops the other, and the put fails, so nothing half-written is kept.
  const stop = (err: unknown) => {
    void writable.abort(err).catch(() => undefined);
    void readable.cancel(err).catch(() => undefined);
    throw err;
  };
  await Promise.all([
    writing.catch(stop),
    deps.bucket
      .put(jobResultsKey(job.workspaceId, job.id), readable, { httpMetadata: { contentType: 'application/x-ndjson' } })
      .catch(stop),
  ]);
}

/** The results of an ended job: its one object if it has one, else its chunks one after the other. */
export async function streamResults(deps: BatchDeps, scope: Scope, jobId: string): Promise<ReadableStream<Uint8Array>> {
  const job = await requireJob(deps, scope, jobId);
  if (!ENDED.includes(job.status)) {
    throw conflict(`job '${jobId}' is ${job.status}; its results are ready when it ends`, { code: 'job_not_finished' });
  }
  const joined = job.status === 'cancelled' ? null : await deps.bucket.get(jobResultsKey(job.workspaceId, jobId));
  if (joined) return joined.body;
  const chunks = await chunksOf(deps, jobId);
  const parts = await partsOf(deps, job, chunks);
  // One chunk: R2's own stream. Several (a cancelled job, or one whose joining failed): pulled
  // one after the other as the client reads, so a client that stops early stops the reading.
  if (chunks.length === 1) {
    const only = await open(deps, job, chunks[0]!, parts[0]!);
    if (!(only instanceof Uint8Array)) return only;
  }
  let at = 0;
  return sequenceStream(async () => {
    const k = at++;
    const chunk = chunks[k];
    return chunk ? open(deps, job, chunk, parts[k]!) : undefined;
  });
}
