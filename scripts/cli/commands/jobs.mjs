// @ts-check
/* Batch jobs: submit (from a local file through /v1/uploads, or inline), follow, fetch results. */
import { createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { collectPages, limitOf, limitOption, list, positiveInt, str } from '../context.mjs';
import { CliError, EXIT, usage } from '../errors.mjs';
import { shortTime, show } from '../output.mjs';
import { preflight } from '../preflight.mjs';
import { csvRecords, flatRecords, formatOf, modelShape, readText, recordsFromJson } from '../records.mjs';
import { fileBody } from '../upload.mjs';

/** @typedef {import('../args.mjs').Command} Command */
/** @typedef {import('../context.mjs').Context} Context */
/** @typedef {import('../../api/types').Schemas['Job']} Job */

const ENDED = ['succeeded', 'partially_failed', 'failed', 'cancelled'];

/**
 * @param {import('../output.mjs').Output} out
 * @param {Job} job
 */
function describeJob(out, job) {
  out.line(`${job.id}  ${job.status}`);
  out.line(`  model     ${job.model} version ${job.version}`);
  out.line(
    `  rows      ${show(job.rows.total)} total, ${job.rows.done} done, ${job.rows.failed} failed` +
      (job.progress === null ? '' : ` (${Math.floor(job.progress * 100)}%)`),
  );
  out.line(`  created   ${shortTime(job.created_at)}`);
  if (job.finished_at) out.line(`  finished  ${shortTime(job.finished_at)}`);
  if (job.error) out.line(`  error     ${job.error}`);
  for (const e of job.errors.slice(0, 5)) out.line(`  row ${e.index}: ${e.error}`);
  if (ENDED.includes(job.status)) out.line(`  results   modelflare jobs results ${job.id}`);
}

/**
 * Polls until the job ends; a progress bar on a terminal, a line per change otherwise.
 * @param {Context} ctx
 * @param {string} id
 */
async function waitFor(ctx, id) {
  const timeout = positiveInt(ctx.values.timeout, 'timeout');
  const interval = (positiveInt(ctx.values.interval, 'interval', 1) ?? 1) * 1000;
  const deadline = timeout === undefined ? Infinity : Date.now() + timeout * 1000;
  /** @type {ReturnType<import('../output.mjs').Output['progress']> | undefined} */
  let bar;
  for (;;) {
    const job = await ctx.client().request('get', '/v1/jobs/{id}', { params: { id } });
    if (job.rows.total !== null) {
      bar ??= ctx.out.progress(`job ${job.id}`, job.rows.total);
      bar.update(job.rows.done + job.rows.failed, job.status);
    }
    if (ENDED.includes(job.status)) {
      bar?.done();
      return job;
    }
    if (Date.now() + interval > deadline) {
      bar?.done();
      throw new CliError(`job ${id} is still ${job.status} after ${timeout} s`, EXIT.TIMEOUT, { job });
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Prints the ended job; its exit code says whether it succeeded.
 * @param {Context} ctx
 * @param {Job & { webhook_secret?: string | null }} job
 */
function finish(ctx, job) {
  ctx.out.result(job, () => describeJob(ctx.out, job));
  return job.status === 'succeeded' ? EXIT.OK : EXIT.JOB_FAILED;
}

/**
 * Where the rows come from: a local file (uploaded first), inline JSON, an upload or an R2 key.
 * @param {Context} ctx
 * @param {string} model
 * @returns {Promise<import('../../api/types').Schemas['JobInput']>}
 */
async function jobInput(ctx, model) {
  const { values } = ctx;
  const sources = ['file', 'data', 'upload-id', 'key'].filter((k) => values[k] !== undefined);
  if (sources.length !== 1) throw usage('jobs submit takes one of --file, --data, --upload-id or --key');
  const uploadId = str(values['upload-id']);
  if (uploadId !== undefined) return { upload_id: uploadId };
  const key = str(values.key);
  if (key !== undefined) return { key };
  const shape = () => modelShape(ctx.client(), model, str(values.version));
  const data = str(values.data);
  if (data !== undefined) {
    const { records, flat } = recordsFromJson(data);
    return { rows: flat ? flatRecords(records, await shape()) : records };
  }
  const file = String(values.file);
  if (formatOf(file) !== 'csv') return { upload_id: (await uploadFile(ctx, file)).id };
  // CSV becomes JSON Lines, the format jobs read, its columns as predict reads them.
  const header = values.header ? true : values['no-header'] ? false : undefined;
  const records = csvRecords(readText(file), await shape(), header);
  const bytes = new TextEncoder().encode(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return { upload_id: (await uploadFile(ctx, file, bytes)).id };
}

/**
 * A JSON Lines file (or its bytes, converted) as an upload, after the checks that can fail
 * before it is sent.
 * @param {Context} ctx
 * @param {string} file
 * @param {Uint8Array} [bytes] what to send instead of the file's own bytes
 */
async function uploadFile({ client, out }, file, bytes) {
  const raw = bytes
    ? { body: bytes, contentType: 'application/x-ndjson', length: bytes.length }
    : fileBody(out, `uploading ${basename(file)}`, file, { contentType: 'application/x-ndjson' });
  await preflight(client(), { permission: 'jobs', limit: 'max_upload_bytes', size: raw.length, what: file });
  const upload = await client().request('post', '/v1/uploads', { query: { filename: basename(file) }, raw });
  out.note(`uploaded ${upload.id}`);
  return upload;
}

const waitOptions = /** @type {const} */ ({
  timeout: { type: 'string', value: 'S', description: 'Give up waiting after S seconds (exit 7)' },
  interval: { type: 'string', value: 'S', description: 'Seconds between polls (default 1)' },
});

/** @type {Command[]} */
export const jobCommands = [
  {
    name: 'jobs submit',
    group: 'Batch',
    operations: ['POST /v1/jobs'],
    args: '<model>',
    summary: 'Submit a batch job: a local JSONL (or CSV) file, inline rows, an upload or an R2 key',
    options: {
      file: { type: 'string', value: 'FILE', description: 'Rows to score: .jsonl (one record per line) or .csv' },
      data: { type: 'string', value: 'JSON', description: 'Rows inline: a JSON array of records' },
      'upload-id': { type: 'string', value: 'ID', description: 'An upload made before (`modelflare uploads create`)' },
      header: { type: 'boolean', description: 'The CSV file’s first row names the columns' },
      'no-header': { type: 'boolean', description: 'The CSV file’s first row is a record' },
      key: { type: 'string', value: 'KEY', description: 'An object under uploads/<workspace>/ in R2' },
      version: { type: 'string', value: 'V', description: 'A version number or alias (pinned now)' },
      'chunk-size': { type: 'string', value: 'N', description: 'Rows per chunk' },
      outputs: { type: 'string', value: 'LIST', description: 'Comma-separated outputs to compute' },
      'include-input': { type: 'boolean', description: 'Copy each input row into its result line' },
      'webhook-url': { type: 'string', value: 'URL', description: 'Announce the job’s end there (signed)' },
      wait: { type: 'boolean', description: 'Wait for the job to end (exit 4 if it does not succeed)' },
      ...waitOptions,
    },
    async run(ctx) {
      const { client, args, values, out } = ctx;
      const input = await jobInput(ctx, String(args[0]));
      const outputs = list(values.outputs);
      const job = await client().request('post', '/v1/jobs', {
        body: {
          model: String(args[0]),
          version: str(values.version),
          input,
          chunk_size: positiveInt(values['chunk-size'], 'chunk-size'),
          outputs: outputs.length ? outputs : undefined,
          include_input: values['include-input'] ? true : undefined,
          webhook_url: str(values['webhook-url']),
        },
      });
      if (values.wait) {
        out.note(`submitted ${job.id}`);
        // Shown once: on stderr for people, in the result for --json.
        if (job.webhook_secret) out.note(`webhook secret (shown this once): ${job.webhook_secret}`);
        const ended = await waitFor(ctx, job.id);
        return finish(ctx, job.webhook_secret ? { ...ended, webhook_secret: job.webhook_secret } : ended);
      }
      out.result(job, () => {
        out.line(`submitted ${job.id} (${job.model} version ${job.version})`);
        if (job.webhook_secret) out.line(`webhook secret (shown this once): ${job.webhook_secret}`);
        out.line(`follow it: modelflare jobs wait ${job.id}`);
      });
    },
  },
  {
    name: 'jobs status',
    group: 'Batch',
    operations: ['GET /v1/jobs/{id}'],
    args: '<id>',
    summary: 'Show a job: status, row counts, progress, a sample of row errors',
    async run({ client, args, out }) {
      const job = await client().request('get', '/v1/jobs/{id}', { params: { id: String(args[0]) } });
      out.result(job, () => describeJob(out, job));
    },
  },
  {
    name: 'jobs wait',
    group: 'Batch',
    operations: [],
    args: '<id>',
    summary: 'Wait for a job to end; exit 0 if it succeeded, 4 if not, 7 on --timeout',
    options: { ...waitOptions },
    async run(ctx) {
      return finish(ctx, await waitFor(ctx, String(ctx.args[0])));
    },
  },
  {
    name: 'jobs results',
    group: 'Batch',
    operations: ['GET /v1/jobs/{id}/results'],
    args: '<id>',
    summary: 'Download an ended job’s results (JSON Lines, in input order)',
    options: { output: { type: 'string', value: 'FILE', short: 'o', description: 'Write to FILE instead of stdout' } },
    async run({ client, args, values, out }) {
      const res = await client().stream('get', '/v1/jobs/{id}/results', { params: { id: String(args[0]) } });
      if (!res.body) return;
      const output = str(values.output);
      const body = Readable.fromWeb(/** @type {import('node:stream/web').ReadableStream} */ (res.body));
      if (output) {
        await pipeline(body, createWriteStream(output));
        out.note(`wrote ${output}`);
      } else {
        await pipeline(body, process.stdout, { end: false });
      }
    },
  },
  {
    name: 'jobs cancel',
    group: 'Batch',
    operations: ['POST /v1/jobs/{id}/cancel'],
    args: '<id>',
    summary: 'Cancel a queued or running job',
    async run({ client, args, out }) {
      const job = await client().request('post', '/v1/jobs/{id}/cancel', { params: { id: String(args[0]) } });
      out.result(job, () => out.line(`${job.id} ${job.status}`));
    },
  },
  {
    name: 'jobs list',
    group: 'Batch',
    operations: ['GET /v1/jobs'],
    summary: 'List jobs, newest first',
    options: {
      status: {
        type: 'string',
        value: 'S',
        description: 'queued, running, succeeded, partially_failed, failed, cancelled',
      },
      model: { type: 'string', value: 'NAME', description: 'Only jobs of this model' },
      ...limitOption(20),
    },
    async run({ client, values, out }) {
      const limit = limitOf(values, 20);
      const status = /** @type {Job['status'] | undefined} */ (str(values.status));
      const page = await collectPages(async (cursor, size) => {
        const p = await client().request('get', '/v1/jobs', {
          query: { cursor, limit: size, status, model: str(values.model) },
        });
        return { items: p.jobs, next: p.next_cursor };
      }, limit);
      out.result({ jobs: page.items, next_cursor: page.next_cursor }, ({ jobs }) =>
        out.table(jobs, [
          ['id', (j) => j.id],
          ['status', (j) => j.status],
          ['model', (j) => `${j.model}@${j.version}`],
          ['rows', (j) => `${j.rows.done + j.rows.failed}/${show(j.rows.total)}`],
          ['failed', (j) => j.rows.failed],
          ['created', (j) => shortTime(j.created_at)],
        ]),
      );
    },
  },
  {
    name: 'uploads create',
    group: 'Batch',
    operations: ['POST /v1/uploads'],
    args: '<file>',
    summary: 'Upload a JSON Lines file of records for jobs and baselines (answers its upload id)',
    notes: 'One record per line, as predict takes them. The file is streamed, with progress on a terminal.',
    async run(ctx) {
      const file = String(ctx.args[0]);
      if (formatOf(file) === 'csv') {
        throw usage('uploads take JSON Lines; `modelflare jobs submit MODEL --file rows.csv` converts a CSV file');
      }
      const upload = await uploadFile(ctx, file);
      ctx.out.result(upload, () => ctx.out.line(`${upload.id}  ${upload.size_bytes} bytes`));
    },
  },
];
