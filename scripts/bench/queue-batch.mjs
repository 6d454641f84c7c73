// The batch figure through the product's own path: a JSON Lines upload, a job, the planner,
// the chunk messages on the queue and their consumers, until the job has ended. Its rows per
// second are compared with raw batched session.run of the same model in the same run.
import { performance } from 'node:perf_hooks';
import { rng } from '../demo-model.mjs';
import { instancesOf } from './models.mjs';
import { check } from './setup.mjs';

const ENDED = new Set(['succeeded', 'partially_failed', 'failed', 'cancelled']);

/**
 * `count` JSON Lines rows: records keyed by the model's feature names with values spread like
 * the iris data, or, for a model without feature names, its benchmark instance repeated.
 */
export function jobRows(model, count) {
  const features = model.fields.feature_names;
  if (!Array.isArray(features)) return `${JSON.stringify(instancesOf(model)[0])}\n`.repeat(count);
  const r = rng(17);
  const lines = new Array(count);
  for (let i = 0; i < count; i++) {
    const record = {};
    for (const f of features) record[f] = Math.round((0.5 + r.uniform() * 7) * 10) / 10;
    lines[i] = JSON.stringify(record);
  }
  return `${lines.join('\n')}\n`;
}

async function call(origin, key, method, path, body, contentType = 'application/json') {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

/**
 * Uploads `rows` (JSON Lines) and runs one job over them with `chunkRows` rows per chunk.
 * The clock runs from the job's submission to its end as its poller sees it (every 25 ms):
 * planning, queue delivery, scoring and the result files, not the upload.
 */
export async function queueBatch({ origin, key, model, rows, count, chunkRows }) {
  const t0 = performance.now();
  const up = await call(origin, key, 'POST', '/v1/uploads?filename=bench.jsonl', rows, 'application/x-ndjson');
  check(up.status === 201, `upload: ${up.status} ${up.text.slice(0, 300)}`);
  const uploadS = (performance.now() - t0) / 1000;

  const submitted = performance.now();
  const body = JSON.stringify({ model: model.name, input: { upload_id: up.json().id }, chunk_size: chunkRows });
  const created = await call(origin, key, 'POST', '/v1/jobs', body);
  check(created.status === 202, `submit: ${created.status} ${created.text.slice(0, 300)}`);
  const id = created.json().id;
  let job;
  for (;;) {
    const got = await call(origin, key, 'GET', `/v1/jobs/${id}`);
    check(got.status === 200, `poll: ${got.status} ${got.text.slice(0, 300)}`);
    const seen = JSON.stringify([job?.status, job?.rows]);
    job = got.json();
    // Progress as it changes, without slowing the poll: its pace is part of the figure.
    if (process.env.BENCH_VERBOSE && JSON.stringify([job.status, job.rows]) !== seen) {
      console.log(
        `  ${((performance.now() - submitted) / 1000).toFixed(2)} s: ${job.status} ${JSON.stringify(job.rows)}`,
      );
    }
    if (ENDED.has(job.status)) break;
    check(performance.now() - submitted < 600_000, `job ${id} still ${job.status} after 10 minutes`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const jobS = (performance.now() - submitted) / 1000;
  check(
    job.status === 'succeeded' && job.rows.done === count && job.rows.failed === 0,
    `job ${id}: ${job.status}, ${JSON.stringify(job.rows)}`,
  );

  // The results hold one scored line per row, in input order.
  const results = await call(origin, key, 'GET', `/v1/jobs/${id}/results`);
  check(results.status === 200, `results: ${results.status}`);
  const lines = results.text.trimEnd().split('\n');
  check(lines.length === count, `results: ${lines.length} lines for ${count} rows`);
  const last = JSON.parse(lines[count - 1]);
  check(last.index === count - 1 && last.prediction !== undefined, `results: last line ${lines[count - 1]}`);

  return {
    rows: count,
    chunk_rows: chunkRows,
    chunks: Math.ceil(count / chunkRows),
    upload_mib: rows.length / 2 ** 20,
    upload_s: uploadS,
    job_s: jobS,
    queue_rows_per_s: count / jobS,
    /** The job's result lines, for the JSON floor (not kept in results.json). */
    resultsText: results.text,
  };
}
