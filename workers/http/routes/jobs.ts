import { z } from '@hono/zod-openapi';
import { cancelJob, getJob, listJobs, submitJob, type JobInput } from '../../batch/jobs';
import { streamResults } from '../../batch/results';
import { createUpload } from '../../batch/uploads';
import { lengthRequired } from '../../core/errors';
import { JOB_STATUSES } from '../../storage/schema';
import { audit } from '../audit';
import { defineRoute } from '../route';
import { presentJob, presentUpload } from '../presenters/batch';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { Job, JobInputBody, JobList, SubmitJobBody, SubmittedJob, Upload } from '../schemas/batch';
import { Cursor, Limit, ModelName, jsonContent } from '../schemas/common';

const JobParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export function jobInputFrom(body: z.infer<typeof JobInputBody>): JobInput {
  if ('upload_id' in body) return { uploadId: body.upload_id };
  if ('key' in body) return { key: body.key };
  return { rows: body.rows };
}

export const jobRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'stream', errors: [411, 413] },
      {
        method: 'post',
        path: '/v1/uploads',
        tags: ['Batch'],
        summary: 'Upload a JSONL input',
        description:
          'Streams the body (JSON Lines: one record per line, as in the instances API) into R2 without holding it in memory. The body must declare its Content-Length (411 otherwise) and stay under MAX_UPLOAD_BYTES (413).',
        request: {
          query: z.object({ filename: z.string().max(256).optional() }),
          body: {
            required: true,
            content: { 'application/x-ndjson': { schema: { type: 'string', format: 'binary' } } },
          },
        },
        responses: { 201: jsonContent(Upload, 'The stored upload') },
      },
    ),
    async (c) => {
      const declared = c.req.header('content-length');
      const length = Number(declared);
      if (declared === undefined || !Number.isInteger(length) || length < 0) {
        throw lengthRequired('send the upload with a Content-Length header (R2 stores streams of known length)');
      }
      const upload = await createUpload(
        c.get('deps'),
        scopeOf(c),
        c.req.raw.body,
        length,
        c.req.valid('query').filename,
      );
      return c.json(presentUpload(upload), 201);
    },
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'json', errors: [404] },
      {
        method: 'post',
        path: '/v1/jobs',
        tags: ['Batch'],
        summary: 'Submit a batch job',
        description: [
          'Scores every row of a JSONL input with one model version, pinned now (moving an alias later does not change the job). Answers 202 with the job; follow it at GET /v1/jobs/{id} and read its results at /v1/jobs/{id}/results.',
          'The input is split into chunks of `chunk_size` rows; each chunk is one queue message and one batched session.run. Rows that fail (bad JSON, a missing feature) get an error line and the job goes on. Failing chunks retry with exponential backoff and end in a dead-letter queue that marks their rows failed.',
        ].join('\n\n'),
        request: { body: { required: true, content: { 'application/json': { schema: SubmitJobBody } } } },
        responses: { 202: jsonContent(SubmittedJob, 'The accepted job') },
      },
    ),
    async (c) => {
      const body = c.req.valid('json');
      c.get('access').model = body.model;
      const { job, webhookSecret } = await submitJob(c.get('deps'), scopeOf(c), {
        model: body.model,
        version: body.version,
        input: jobInputFrom(body.input),
        chunkSize: body.chunk_size,
        outputs: body.outputs,
        includeInput: body.include_input,
        webhookUrl: body.webhook_url,
      });
      c.get('access').version = job.version;
      await audit(c, {
        action: 'job.submit',
        target: `job:${job.id}`,
        details: { model: job.modelName, version: job.version, rows: job.rowsTotal },
      });
      return c.json({ ...presentJob(job), webhook_secret: webhookSecret }, 202, { Location: `/v1/jobs/${job.id}` });
    },
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/jobs',
        tags: ['Batch'],
        summary: 'List jobs',
        description: 'Jobs of the workspace, newest first, filtered by status and model.',
        request: {
          query: z.object({
            limit: Limit,
            cursor: Cursor,
            status: z.enum(JOB_STATUSES).optional(),
            model: ModelName.optional(),
          }),
        },
        responses: { 200: jsonContent(JobList, 'A page of jobs') },
      },
    ),
    async (c) => {
      const q = c.req.valid('query');
      const page = await listJobs(c.get('deps'), scopeOf(c), q);
      return c.json({ jobs: page.jobs.map(presentJob), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/jobs/{id}',
        tags: ['Batch'],
        summary: 'Get a job',
        description: 'Status, row and chunk counts, progress, timestamps and a sample of row errors.',
        request: { params: JobParam },
        responses: { 200: jsonContent(Job, 'The job') },
      },
    ),
    async (c) => c.json(presentJob(await getJob(c.get('deps'), scopeOf(c), c.req.valid('param').id)), 200),
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'none', errors: [404, 409] },
      {
        method: 'post',
        path: '/v1/jobs/{id}/cancel',
        tags: ['Batch'],
        summary: 'Cancel a job',
        description:
          'Stops a queued or running job; chunks not yet scored are skipped. 409 if the job has already ended.',
        request: { params: JobParam },
        responses: { 200: jsonContent(Job, 'The cancelled job') },
      },
    ),
    async (c) => {
      const job = await cancelJob(c.get('deps'), scopeOf(c), c.req.valid('param').id);
      await audit(c, { action: 'job.cancel', target: `job:${job.id}` });
      return c.json(presentJob(job), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'none', errors: [404, 409] },
      {
        method: 'get',
        path: '/v1/jobs/{id}/results',
        tags: ['Batch'],
        summary: 'Stream a job’s results',
        description:
          'JSON Lines in input order, one line per input row: `{"index": n, "prediction": …}` or `{"index": n, "error": "…"}` (with `"input"` when include_input was set). Available once the job has ended (409 before).',
        request: { params: JobParam },
        responses: {
          200: { description: 'JSONL', content: { 'application/x-ndjson': { schema: { type: 'string' } } } },
        },
      },
    ),
    async (c) => {
      const id = c.req.valid('param').id;
      const stream = await streamResults(c.get('deps'), scopeOf(c), id);
      return c.body(stream, 200, {
        'Content-Type': 'application/x-ndjson',
        'Content-Disposition': `attachment; filename="${id}-results.jsonl"`,
      }) as never;
    },
  );
