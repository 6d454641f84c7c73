import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { BatchDeps } from './deps';
import { conflict, notFound } from '../core/errors';
import { newId } from '../core/ids';
import { errorFields } from '../core/logger';
import { resolveServed } from '../inference/served-versions';
import { selectOutputs } from '../inference/validate-inputs';
import type { Scope } from '../registry/types';
import { newestFirst, pageOf } from '../storage/paging';
import { jobChunks, jobs, type JobStatus } from '../storage/schema';
import { newStoredSecret, secretContext } from '../webhooks/stored-secrets';
import { checkWebhookUrl } from '../webhooks/url-policy';
import { emitEvent } from '../webhooks/events';
import type { BatchMessage } from './messages';
import { discardUpload, requireOwnedKey, requireUpload, uploadRows } from './uploads';

export type JobRow = typeof jobs.$inferSelect;

export type JobInput = { uploadId: string } | { key: string } | { rows: unknown[] };

export interface JobSpec {
  model: string;
  version?: string;
  input: JobInput;
  chunkSize?: number;
  outputs?: string[] | null;
  includeInput?: boolean;
  webhookUrl?: string;
  triggerId?: string;
  /** Use this id (a trigger delivery reserves it before the job exists). */
  id?: string;
}

/** A job with the counters derived from its chunks. */
export interface JobView extends JobRow {
  rowsDone: number;
  rowsFailed: number;
  chunksDone: number;
  chunksFailed: number;
  errors: { index: number; error: string }[];
}

export const ENDED: readonly JobStatus[] = ['succeeded', 'partially_failed', 'failed', 'cancelled'];

async function resolveInput(deps: BatchDeps, scope: Scope, input: JobInput) {
  if ('uploadId' in input) {
    const upload = await requireUpload(deps, scope, input.uploadId);
    return { key: upload.key, source: { kind: 'upload' as const, ref: upload.id } };
  }
  if ('key' in input)
    return { key: await requireOwnedKey(deps, scope, input.key), source: { kind: 'key' as const, ref: input.key } };
  const upload = await uploadRows(deps, scope, input.rows);
  return { key: upload.key, source: { kind: 'rows' as const, ref: upload.id } };
}

/**
 * Accepts a job: pins the version the model/alias names now, puts the input in place and
 * queues the planning step. Answers with the job and, when it has its own webhook URL, the
 * signing secret of that webhook (shown this once).
 */
export async function submitJob(
  deps: BatchDeps,
  scope: Scope,
  spec: JobSpec,
): Promise<{ job: JobView; webhookSecret: string | null }> {
  const served = await resolveServed(deps, scope, spec.model, spec.version);
  const outputs =
    spec.outputs && spec.outputs.length > 0
      ? selectOutputs(
          served.signature,
          spec.outputs.map((name) => ({ name })),
        )
      : null;
  const webhookUrl = spec.webhookUrl ? checkWebhookUrl(spec.webhookUrl, deps.config) : null;
  const id = spec.id ?? newId('job');
  // Sealed before anything is stored: without an encryption key the job is refused whole.
  const secret = webhookUrl ? await newStoredSecret(deps.config, secretContext.job(id)) : null;
  const input = await resolveInput(deps, scope, spec.input);
  let created = false;
  try {
    const webhookSecret = secret?.stored ?? null;
    const row = await insertJob(deps, scope, spec, { id, served, outputs, webhookUrl, webhookSecret, input });
    created = true;
    await deps.batchQueue.send({ kind: 'plan', jobId: id } satisfies BatchMessage);
    return { job: withCounters(row, []), webhookSecret: secret?.plaintext ?? null };
  } catch (err) {
    // No half-made job: the caller hears the failure and may submit again.
    await discardJob(deps, id, created, input).catch((cleanup: unknown) =>
      deps.logger.warn('job not cleaned up', { job_id: id, ...errorFields(cleanup) }),
    );
    throw err;
  }
}

async function discardJob(
  deps: BatchDeps,
  id: string,
  created: boolean,
  input: Awaited<ReturnType<typeof resolveInput>>,
): Promise<void> {
  if (created) await deps.db.delete(jobs).where(eq(jobs.id, id));
  if (input.source.kind === 'rows') await discardUpload(deps, { id: input.source.ref, key: input.key });
}

async function insertJob(
  deps: BatchDeps,
  scope: Scope,
  spec: JobSpec,
  v: {
    id: string;
    served: Awaited<ReturnType<typeof resolveServed>>;
    outputs: string[] | null;
    webhookUrl: string | null;
    webhookSecret: string | null;
    input: Awaited<ReturnType<typeof resolveInput>>;
  },
): Promise<JobRow> {
  const { id, served, outputs, webhookUrl, webhookSecret, input } = v;
  const [row] = await deps.db
    .insert(jobs)
    .values({
      id,
      workspaceId: scope.workspaceId,
      modelId: served.modelId,
      modelName: served.modelName,
      versionId: served.versionId,
      version: served.version,
      status: 'queued',
      inputKey: input.key,
      inputSource: input.source,
      chunkSize: spec.chunkSize ?? deps.config.BATCH_CHUNK_ROWS,
      outputs,
      includeInput: spec.includeInput ?? false,
      webhookUrl,
      webhookSecret,
      triggerId: spec.triggerId ?? null,
      createdBy: scope.actorId,
      createdAt: Date.now(),
    })
    .returning();
  return row!;
}

type ChunkSummary = Pick<typeof jobChunks.$inferSelect, 'status' | 'rowsOk' | 'rowsFailed' | 'errorSample'>;

function withCounters(job: JobRow, chunks: ChunkSummary[]): JobView {
  let rowsDone = 0;
  let rowsFailed = 0;
  let chunksDone = 0;
  let chunksFailed = 0;
  const errors: JobView['errors'] = [];
  for (const c of chunks) {
    rowsDone += c.rowsOk;
    rowsFailed += c.rowsFailed;
    if (c.status === 'done') chunksDone += 1;
    if (c.status === 'failed') chunksFailed += 1;
    for (const e of c.errorSample ?? []) if (errors.length < 10) errors.push(e);
  }
  return { ...job, rowsDone, rowsFailed, chunksDone, chunksFailed, errors };
}

async function chunkSummaries(deps: BatchDeps, jobIds: string[]): Promise<Map<string, ChunkSummary[]>> {
  const byJob = new Map<string, ChunkSummary[]>(jobIds.map((id) => [id, []]));
  if (jobIds.length === 0) return byJob;
  const rows = await deps.db
    .select({
      jobId: jobChunks.jobId,
      status: jobChunks.status,
      rowsOk: jobChunks.rowsOk,
      rowsFailed: jobChunks.rowsFailed,
      errorSample: jobChunks.errorSample,
    })
    .from(jobChunks)
    .where(inArray(jobChunks.jobId, jobIds))
    .orderBy(jobChunks.jobId, jobChunks.index);
  for (const { jobId, ...summary } of rows) byJob.get(jobId)!.push(summary);
  return byJob;
}

export async function requireJob(deps: BatchDeps, scope: Scope, id: string): Promise<JobRow> {
  const job = await deps.db.query.jobs.findFirst({
    where: and(eq(jobs.id, id), eq(jobs.workspaceId, scope.workspaceId)),
  });
  if (!job) throw notFound(`job '${id}' not found`, { code: 'job_not_found' });
  return job;
}

export async function getJob(deps: BatchDeps, scope: Scope, id: string): Promise<JobView> {
  const job = await requireJob(deps, scope, id);
  return withCounters(job, (await chunkSummaries(deps, [id])).get(id)!);
}

export async function listJobs(
  deps: BatchDeps,
  scope: Scope,
  query: { limit: number; cursor?: string; status?: JobStatus; model?: string },
): Promise<{ jobs: JobView[]; nextCursor: string | null }> {
  const { after, orderBy } = newestFirst(jobs.createdAt, jobs.id, query.cursor);
  const conditions: (SQL | undefined)[] = [eq(jobs.workspaceId, scope.workspaceId), after];
  if (query.status) conditions.push(eq(jobs.status, query.status));
  if (query.model) conditions.push(eq(jobs.modelName, query.model));
  const rows = await deps.db
    .select()
    .from(jobs)
    .where(and(...conditions))
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  const page = pageOf(rows, query.limit, (j) => [j.createdAt, j.id]);
  const chunks = await chunkSummaries(
    deps,
    page.items.map((j) => j.id),
  );
  return { jobs: page.items.map((j) => withCounters(j, chunks.get(j.id)!)), nextCursor: page.nextCursor };
}

/** Stops a queued or running job: chunks not yet run are skipped by the consumer. */
export async function cancelJob(deps: BatchDeps, scope: Scope, id: string): Promise<JobView> {
  const job = await requireJob(deps, scope, id);
  const [updated] = await deps.db
    .update(jobs)
    .set({ status: 'cancelled', finishedAt: Date.now() })
    .where(and(eq(jobs.id, id), inArray(jobs.status, ['queued', 'running'])))
    .returning();
  if (!updated) throw conflict(`job '${id}' has already ended (${job.status})`, { code: 'job_ended' });
  await emitEvent(deps, job.workspaceId, 'job.cancelled', jobEventData(updated), id);
  return getJob(deps, scope, id);
}

export function jobEventData(job: JobRow) {
  return { job_id: job.id, model: job.modelName, version: job.version, status: job.status };
}
