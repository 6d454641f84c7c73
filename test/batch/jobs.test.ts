import { env } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, callJson, fixture, newModel, resultLines, uniqueName, uploadRaw, waitForJob } from '../helpers';
import { captureBatchQueue, consume, drain, runAll } from './queue-driver';

afterEach(() => vi.restoreAllMocks());

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

/** Deterministic iris-like records. */
function irisRows(n: number, seed = 1): Record<string, number>[] {
  let a = seed;
  const next = () => (a = (a * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () =>
    Object.fromEntries(FEATURES.map((f, k) => [f, Math.round((1 + next() * [6, 3, 6, 2.5][k]!) * 10) / 10])),
  );
}

async function irisModel(): Promise<string> {
  const name = uniqueName('iris');
  await callJson('POST', '/v1/models', 201, {
    body: {
      name,
      task: 'classification',
      feature_names: FEATURES,
      class_labels: ['setosa', 'versicolor', 'virginica'],
    },
  });
  expect((await uploadRaw(name, fixture('generated/iris.onnx'))).status).toBe(201);
  return name;
}

async function uploadJsonl(lines: string[]): Promise<string> {
  const body = new TextEncoder().encode(lines.join('\n') + '\n');
  const upload = await callJson('POST', '/v1/uploads?filename=rows.jsonl', 201, {
    body,
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expect(upload.size_bytes).toBe(body.byteLength);
  return upload.id;
}

describe('a 10,000-row job through the real queues', () => {
  it('scores every row once, in order, equal to real-time predictions', async () => {
    const name = await irisModel();
    const rows = irisRows(10_000);
    const uploadId = await uploadJsonl(rows.map((r) => JSON.stringify(r)));
    const submitted = await callJson('POST', '/v1/jobs', 202, {
      body: { model: name, input: { upload_id: uploadId } },
    });
    expect(submitted).toMatchObject({
      status: 'queued',
      model: name,
      version: 1,
      input: { kind: 'upload', ref: uploadId },
    });
    const job = await waitForJob(submitted.id, 120_000);
    expect(job).toMatchObject({
      status: 'succeeded',
      rows: { total: 10_000, done: 10_000, failed: 0 },
      progress: 1,
      chunks: { total: 20, done: 20, failed: 0 },
      errors: [],
    });
    expect(Date.parse(job.finished_at)).toBeGreaterThanOrEqual(Date.parse(job.started_at));
    const lines = await resultLines(submitted.id);
    expect(lines).toHaveLength(10_000);
    expect(lines.map((l) => l.index)).toEqual(rows.map((_, i) => i));
    const sample = [0, 1, 499, 500, 4321, 9999];
    const realtime = await callJson('POST', `/v1/models/${name}/predict`, 200, {
      body: { instances: sample.map((i) => rows[i]) },
      headers: { 'cache-control': 'no-store' },
    });
    sample.forEach((i, k) => expect(lines[i].prediction).toEqual(realtime.predictions[k]));
  }, 180_000);
});

describe('the engine, driven message by message', () => {
  let model: string;
  beforeAll(async () => {
    model = await irisModel();
  });

  async function submit(rows: unknown[], extra: Record<string, unknown> = {}) {
    const captured = captureBatchQueue();
    const job = await callJson('POST', '/v1/jobs', 202, { body: { model, input: { rows }, chunk_size: 4, ...extra } });
    await consume('modelflare-batch', drain(captured)); // plan
    return { id: job.id as string, chunks: drain(captured), captured };
  }

  it('redelivered and duplicated messages leave exactly one result per row', async () => {
    const rows = irisRows(10, 2);
    const { id, chunks } = await submit(rows);
    expect(chunks).toEqual([0, 1, 2].map((index) => ({ kind: 'chunk', jobId: id, index })));
    // duplicates in one batch, then every chunk redelivered after the job ended
    await consume('modelflare-batch', [chunks[0], chunks[0], chunks[1]]);
    await consume('modelflare-batch', [chunks[2], chunks[1]], 2);
    const done = await callJson('GET', `/v1/jobs/${id}`, 200);
    expect(done).toMatchObject({ status: 'succeeded', rows: { total: 10, done: 10, failed: 0 } });
    const result = await consume('modelflare-batch', chunks, 3);
    expect(result.explicitAcks).toHaveLength(3);
    expect(await callJson('GET', `/v1/jobs/${id}`, 200)).toMatchObject({
      rows: { done: 10, failed: 0 },
      status: 'succeeded',
    });
    // the plan message redelivered late changes nothing either
    await consume('modelflare-batch', [{ kind: 'plan', jobId: id }], 2);
    const lines = await resultLines(id);
    expect(lines.map((l) => l.index)).toEqual([...Array(10).keys()]);
  });

  it('joins the results into one object before the job ends, and serves that object', async () => {
    const { id, chunks } = await submit(irisRows(10, 7));
    const key = `jobs/ws_default/${id}/results.jsonl`;
    await consume('modelflare-batch', chunks.slice(0, 2));
    expect(await env.BUCKET.head(key)).toBeNull(); // a chunk is still pending
    await consume('modelflare-batch', chunks.slice(2));
    expect(await callJson('GET', `/v1/jobs/${id}`, 200)).toMatchObject({ status: 'succeeded' });
    const joined = await env.BUCKET.get(key);
    expect(joined).not.toBeNull();
    const served = await call('GET', `/v1/jobs/${id}/results`);
    const text = await served.text();
    expect(text).toBe(await joined!.text());
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).index),
    ).toEqual([...Array(10).keys()]);
    // What the chunks say, one after the other, is what the one object holds.
    const parts = await Promise.all(
      [0, 1, 2].map(async (k) => (await env.BUCKET.get(`jobs/ws_default/${id}/chunks/00000${k}.jsonl`))!.text()),
    );
    expect(parts.join('')).toBe(text);
  });

  it('a job whose results cannot be joined still ends, and serves them chunk by chunk', async () => {
    const { id, chunks } = await submit(irisRows(9, 8));
    const realPut = env.BUCKET.put.bind(env.BUCKET);
    vi.spyOn(env.BUCKET, 'put').mockImplementation(((key: string, value: any, options?: R2PutOptions) => {
      if (key.endsWith('/results.jsonl')) return Promise.reject(new Error('R2 refuses the write'));
      return realPut(key, value, options);
    }) as typeof env.BUCKET.put);
    await consume('modelflare-batch', chunks);
    vi.restoreAllMocks();
    expect(await callJson('GET', `/v1/jobs/${id}`, 200)).toMatchObject({ status: 'succeeded', rows: { done: 9 } });
    expect(await env.BUCKET.head(`jobs/ws_default/${id}/results.jsonl`)).toBeNull();
    expect((await resultLines(id)).map((l) => l.index)).toEqual([...Array(9).keys()]);
  });

  it('a chunk that fails twice retries with exponential backoff and then succeeds', async () => {
    const { id, chunks } = await submit(irisRows(8, 3));
    const realGet = env.BUCKET.get.bind(env.BUCKET);
    let failures = 0;
    vi.spyOn(env.BUCKET, 'get').mockImplementation(((key: string, options?: R2GetOptions) => {
      if (options?.range && failures < 2) {
        failures += 1;
        return Promise.reject(new Error('R2 is having a bad day'));
      }
      return realGet(key, options as R2GetOptions);
    }) as typeof env.BUCKET.get);
    const first = await consume('modelflare-batch', [chunks[0]], 1);
    expect(first.retryMessages).toHaveLength(1);
    expect(first.retryDelays).toEqual([5]);
    const second = await consume('modelflare-batch', [chunks[0]], 2);
    expect(second.retryDelays).toEqual([10]);
    const third = await consume('modelflare-batch', [chunks[0], chunks[1]], 3);
    expect(third.retryMessages).toEqual([]);
    expect(third.explicitAcks).toHaveLength(2);
    const chunk = await env.DB.prepare(
      'select attempts, status, last_error from job_chunks where job_id = ? and idx = 0',
    )
      .bind(id)
      .first<any>();
    expect(chunk).toEqual({ attempts: 2, status: 'done', last_error: 'R2 is having a bad day' });
    expect(await callJson('GET', `/v1/jobs/${id}`, 200)).toMatchObject({ status: 'succeeded', rows: { done: 8 } });
  });

  it('a chunk in the dead-letter queue fails its rows and the job ends partially_failed', async () => {
    const { id, chunks } = await submit(irisRows(8, 4));
    vi.spyOn(env.BUCKET, 'get').mockRejectedValueOnce(new Error('still down'));
    await consume('modelflare-batch', [chunks[1]], 5);
    vi.restoreAllMocks();
    await consume('modelflare-batch', [chunks[0]]);
    await consume('modelflare-batch-dlq', [chunks[1]], 6);
    const job = await callJson('GET', `/v1/jobs/${id}`, 200);
    expect(job).toMatchObject({
      status: 'partially_failed',
      rows: { total: 8, done: 4, failed: 4 },
      chunks: { done: 1, failed: 1 },
    });
    expect(job.errors[0]).toEqual({ index: 4, error: 'the chunk failed after 1 attempts: still down' });
    const lines = await resultLines(id);
    expect(lines.slice(0, 4).every((l) => 'prediction' in l)).toBe(true);
    expect(lines.slice(4).map((l) => l.error)).toEqual(Array(4).fill('the chunk failed after 1 attempts: still down'));
  });

  it('cancel in the middle: the rest is skipped, results say which rows never ran', async () => {
    const { id, chunks } = await submit(irisRows(12, 5));
    await consume('modelflare-batch', [chunks[0]]);
    expect((await callJson('GET', `/v1/jobs/${id}/results`, 409)).error.code).toBe('job_not_finished');
    const cancelled = await callJson('POST', `/v1/jobs/${id}/cancel`, 200);
    expect(cancelled).toMatchObject({ status: 'cancelled', rows: { done: 4 } });
    await consume('modelflare-batch', [chunks[1], chunks[2]]);
    expect(await callJson('GET', `/v1/jobs/${id}`, 200)).toMatchObject({
      status: 'cancelled',
      rows: { done: 4, failed: 0 },
    });
    const lines = await resultLines(id);
    expect(lines).toHaveLength(12);
    expect(lines.slice(4).every((l) => l.error === 'the job was cancelled before this row ran')).toBe(true);
    expect((await callJson('POST', `/v1/jobs/${id}/cancel`, 409)).error.code).toBe('job_ended');
  });

  it('bad JSONL lines fail alone and the job goes on', async () => {
    const captured = captureBatchQueue();
    const good = irisRows(3, 6).map((r) => JSON.stringify(r));
    const uploadId = await uploadJsonl([
      good[0]!,
      '{"sepal_length": 5',
      '',
      '{"sepal_length": 1}',
      '"text"',
      good[1]!,
      good[2]!,
    ]);
    const job = await callJson('POST', '/v1/jobs', 202, {
      body: { model, input: { upload_id: uploadId }, chunk_size: 3, include_input: true },
    });
    await runAll(captured);
    const ended = await callJson('GET', `/v1/jobs/${job.id}`, 200);
    expect(ended).toMatchObject({ status: 'partially_failed', rows: { total: 7, done: 3, failed: 4 } });
    const lines = await resultLines(job.id);
    expect(lines.map((l) => l.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(lines[1].error).toMatch(/^the line is not valid JSON/);
    expect(lines[2].error).toBe('empty line');
    expect(lines[3].error).toBe("the row lacks feature 'sepal_width'");
    expect(lines[4].error).toMatch(/the row is an object|has 1 values|expected/);
    expect(lines[0]).toMatchObject({ input: JSON.parse(good[0]!), prediction: { label: expect.any(String) } });
    expect(lines[1].input).toBe('{"sepal_length": 5');
  });

  it('pins the version at submission: moving the alias later does not change the job', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pin');
    await uploadRaw(name, fixture('generated/regressor2.onnx'));
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 1 } });
    const captured = captureBatchQueue();
    const job = await callJson('POST', '/v1/jobs', 202, { body: { model: name, input: { rows: [[3, 4]] } } });
    expect(job.version).toBe(1);
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 2 } });
    await runAll(captured);
    expect((await resultLines(job.id))[0]).toEqual({ index: 0, prediction: 2.5 });
  });

  it('an input without rows fails the job with a reason', async () => {
    const captured = captureBatchQueue();
    const upload = await callJson('POST', '/v1/uploads', 201, {
      body: new TextEncoder().encode('\n'),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    // a single newline is one empty row: the job runs and that row fails
    const job = await callJson('POST', '/v1/jobs', 202, { body: { model, input: { upload_id: upload.id } } });
    await runAll(captured);
    expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toMatchObject({
      status: 'failed',
      rows: { total: 1, failed: 1 },
    });
  });
});

describe('submitting', () => {
  it('refuses what cannot run, naming the problem, and stores no job', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'sub');
    const count = async () => (await env.DB.prepare('select count(*) as n from jobs').first<{ n: number }>())!.n;
    const before = await count();
    const cases: [object, number, RegExp][] = [
      [{ model: 'no-such-model', input: { rows: [[1, 2]] } }, 404, /model 'no-such-model' not found/],
      [{ model: name, version: '7', input: { rows: [[1, 2]] } }, 404, /has no version 7/],
      [{ model: name, input: { upload_id: 'upl_missing' } }, 404, /upload 'upl_missing' not found/],
      [{ model: name, input: { key: 'uploads/ws_other/x.jsonl' } }, 404, /not found/],
      [{ model: name, input: { rows: [] } }, 400, /'input/],
      [{ model: name, input: { rows: [[1, 2]] }, outputs: ['nope'] }, 400, /unknown output 'nope'/],
      [{ model: name, input: { rows: [[1, 2]] }, chunk_size: 0 }, 400, /chunk_size/],
      [
        { model: name, input: { rows: [[1, 2]] }, webhook_url: 'ftp://example.com/x' },
        400,
        /webhook URLs must use https/,
      ],
      [{ model: name, input: { rows: Array(1001).fill([1, 2]) } }, 400, /at most 1000 rows may be sent inline/],
    ];
    for (const [body, status, message] of cases) {
      const res = await callJson('POST', '/v1/jobs', status, { body });
      expect(res.error.message, JSON.stringify(body).slice(0, 80)).toMatch(message);
    }
    expect(await count()).toBe(before);
  });

  it('uploads: empty, without Content-Length, and over the limit', async () => {
    expect(
      (
        await callJson('POST', '/v1/uploads', 400, {
          body: new Uint8Array(0),
          headers: { 'content-type': 'application/x-ndjson' },
        })
      ).error.message,
    ).toMatch(/empty/);
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('[1]\n')), c.close()) });
    const noLength = await callJson('POST', '/v1/uploads', 411, {
      body: stream,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(noLength.error).toMatchObject({ code: 'length_required' });
    const big = new Uint8Array(Number(env.MAX_UPLOAD_BYTES) + 1);
    expect((await callJson('POST', '/v1/uploads', 413, { body: big })).error.code).toBe('payload_too_large');
  });

  it('lists jobs newest first with filters and pages', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'lst');
    const captured = captureBatchQueue();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await callJson('POST', '/v1/jobs', 202, { body: { model: name, input: { rows: [[i, i]] } } })).id);
    await runAll(captured);
    const first = await callJson('GET', `/v1/jobs?model=${name}&limit=2`, 200);
    expect(first.jobs.map((j: any) => j.id)).toEqual([ids[2], ids[1]]);
    const second = await callJson('GET', `/v1/jobs?model=${name}&limit=2&cursor=${first.next_cursor}`, 200);
    expect(second.jobs.map((j: any) => j.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
    expect((await callJson('GET', `/v1/jobs?model=${name}&status=running`, 200)).jobs).toEqual([]);
    expect((await callJson('GET', `/v1/jobs?model=${name}&status=succeeded`, 200)).jobs).toHaveLength(3);
    expect((await callJson('GET', '/v1/jobs/job_nope', 404)).error.code).toBe('job_not_found');
    expect((await call('GET', '/v1/jobs', { token: null })).status).toBe(401);
  });
});
