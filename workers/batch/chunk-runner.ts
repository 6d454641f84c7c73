import { and, eq, sql } from 'drizzle-orm';
import type { BatchDeps } from './deps';
import { DomainError, notFound } from '../core/errors';
import { depthProblem } from '../core/json-depth';
import { isBackendFailure } from '../inference/backends/backends';
import { predictRows, type RowResult } from '../inference/predict-rows';
import { resolveServedById } from '../inference/served-versions';
import { chunkResultKey } from '../storage/r2-keys';
import { jobChunks, jobs } from '../storage/schema';
import { finishIfDone } from './completion';
import { splitLines } from './plan-chunks';

type ChunkRow = typeof jobChunks.$inferSelect;
type JobRow = typeof jobs.$inferSelect;

const ERROR_SAMPLE = 3;

function parseRow(line: string): { row: unknown } | { error: string } {
  if (line.trim() === '') return { error: 'empty line' };
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (err) {
    return { error: `the line is not valid JSON: ${(err as Error).message}` };
  }
  // Everything after this (validation, echoing the input, writing results) walks the row.
  const tooDeep = depthProblem(row);
  return tooDeep ? { error: tooDeep } : { row };
}

/** One result line per input row, in input order: `{"index", "prediction"}` or `{"index", "error"}`. */
function resultLines(chunk: ChunkRow, results: RowResult[], inputs: unknown[] | null): string {
  return results
    .map((result, k) => {
      const line: Record<string, unknown> = { index: chunk.firstRow + k };
      if (inputs) line.input = inputs[k];
      Object.assign(line, result);
      return JSON.stringify(line);
    })
    .join('\n')
    .concat('\n');
}

async function recordResult(
  deps: BatchDeps,
  job: JobRow,
  chunk: ChunkRow,
  results: RowResult[],
  inputs: unknown[] | null,
  status: 'done' | 'failed',
) {
  await deps.bucket.put(chunkResultKey(job.workspaceId, job.id, chunk.index), resultLines(chunk, results, inputs), {
    httpMetadata: { contentType: 'application/x-ndjson' },
  });
  const errors = results.flatMap((r, k) => ('error' in r ? [{ index: chunk.firstRow + k, error: r.error }] : []));
  // Only a pending chunk changes: a duplicate message that arrives late rewrites the same file
  // and leaves the counts (and the metrics) as they were.
  const changed = await deps.db
    .update(jobChunks)
    .set({
      status,
      rowsOk: results.length - errors.length,
      rowsFailed: errors.length,
      errorSample: errors.length > 0 ? errors.slice(0, ERROR_SAMPLE) : null,
      updatedAt: Date.now(),
    })
    .where(and(eq(jobChunks.jobId, job.id), eq(jobChunks.index, chunk.index), eq(jobChunks.status, 'pending')))
    .returning({ index: jobChunks.index });
  if (changed.length > 0) {
    const version = { workspaceId: job.workspaceId, model: job.modelName, version: job.version };
    deps.metrics.batchRows(deps, version, results.length - errors.length, errors.length);
  }
}

async function load(deps: BatchDeps, jobId: string, index: number) {
  const [row] = await deps.db
    .select({ job: jobs, chunk: jobChunks })
    .from(jobChunks)
    .innerJoin(jobs, eq(jobs.id, jobChunks.jobId))
    .where(and(eq(jobChunks.jobId, jobId), eq(jobChunks.index, index)));
  return row;
}

/**
 * Scores one chunk with one batched session.run (rows that fail alone get an error line).
 * Returns quietly when there is nothing to do (the job ended or was cancelled, the chunk is
 * already done); throws on a transient failure so the queue retries the chunk.
 */
export async function runChunk(deps: BatchDeps, jobId: string, index: number): Promise<void> {
  const found = await load(deps, jobId, index);
  if (!found || found.job.status !== 'running') return;
  // A chunk recorded by an attempt that then failed to end the job (D1 refused the update):
  // this redelivery finishes what that attempt left, or the job would run for ever.
  if (found.chunk.status !== 'pending') {
    await finishIfDone(deps, jobId);
    return;
  }
  const { job, chunk } = found;
  try {
    const served = await resolveServedById(
      deps,
      { workspaceId: job.workspaceId, actorId: job.createdBy },
      job.versionId,
    );
    const object = await deps.bucket.get(job.inputKey, {
      range: { offset: chunk.byteOffset, length: chunk.byteLength },
    });
    if (!object) throw notFound('the input file no longer exists');
    const lines = splitLines(new Uint8Array(await object.arrayBuffer()), chunk.rowCount, chunk.byteOffset);
    const parsed = lines.map(parseRow);
    const rows = parsed.flatMap((p) => ('row' in p ? [p.row] : []));
    const predicted = await predictRows(deps, served, rows, job.outputs);
    let next = 0;
    const results = parsed.map((p): RowResult => ('error' in p ? { error: p.error } : predicted[next++]!));
    const inputs = job.includeInput ? parsed.map((p, k) => ('row' in p ? p.row : lines[k])) : null;
    await recordResult(deps, job, chunk, results, inputs, 'done');
  } catch (err) {
    // A runner or remote server that fails is passing: the chunk is retried with backoff.
    if (!(err instanceof DomainError) || isBackendFailure(err)) {
      await deps.db
        .update(jobChunks)
        .set({
          attempts: sql`${jobChunks.attempts} + 1`,
          lastError: String(err instanceof Error ? err.message : err),
          updatedAt: Date.now(),
        })
        .where(and(eq(jobChunks.jobId, jobId), eq(jobChunks.index, index)));
      throw err;
    }
    // Permanent: the pinned version or the input is gone. Retrying cannot help.
    await failChunkRows(deps, job, chunk, err.message);
  }
  await finishIfDone(deps, jobId);
}

async function failChunkRows(deps: BatchDeps, job: JobRow, chunk: ChunkRow, reason: string) {
  const results: RowResult[] = Array.from({ length: chunk.rowCount }, () => ({ error: reason }));
  await recordResult(deps, job, chunk, results, null, 'failed');
}

/** The dead-letter verdict on a chunk that kept failing: its rows fail, the job goes on. */
export async function failChunk(deps: BatchDeps, jobId: string, index: number): Promise<void> {
  const found = await load(deps, jobId, index);
  if (!found) return;
  const { job, chunk } = found;
  if (chunk.status === 'pending' && job.status === 'running') {
    const why = chunk.lastError ? `: ${chunk.lastError}` : '';
    await failChunkRows(deps, job, chunk, `the chunk failed after ${chunk.attempts} attempts${why}`);
  }
  await finishIfDone(deps, jobId);
}
