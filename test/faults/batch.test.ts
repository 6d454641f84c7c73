import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callJson, fixture, newModel, resultLines } from '../helpers';
import { captureBatchQueue, captureWebhookQueue, drain, type Captured } from '../batch/queue-driver';
import { consumeWith, scheduledWith, sendJson } from './drive';
import { faultyEnv, type Faults, type FaultRule } from './faulty-env';
import { realOutage } from './outage-shapes';
import { reportFaults } from './report';

/*
 * Batch jobs through store and queue faults: a chunk that fails once is retried by the queue
 * and the job still ends exactly once, every row in the results exactly once, one completion
 * event; a job that cannot be queued is not left half-made.
 */

afterEach(() => vi.restoreAllMocks());

const ROWS = 10;
const CHUNK = 3;
/** y = 2·x1 − x2 + 0.5 on row [k, 1]. */
const rows = Array.from({ length: ROWS }, (_, k) => [k, 1]);
const predicted = (k: number) => 2 * k - 1 + 0.5;
const BATCH = 'modelflare-batch';
/** drizzle runs a statement through any of these, depending on the query's shape. */
const QUERY = ['first', 'all', 'run', 'raw'];

const chunkResultPut = (index: number) => (args: [string]) =>
  args[0].endsWith(`/chunks/${String(index).padStart(6, '0')}.jsonl`);
const chunkRecord = (sql: string) => sql.startsWith('update "job_chunks"') && sql.includes('"rows_ok"');
const jobEnd = (sql: string) => sql.startsWith('update "jobs"') && sql.includes('"finished_at"');

interface Run {
  job: any;
  batchQueue: Captured;
  webhookQueue: Captured;
}

/** Submits a job with its own webhook URL and plans it (without faults); chunk messages wait in `batchQueue`. */
async function plannedJob(): Promise<Run> {
  const model = await newModel(fixture('generated/regressor.onnx'), 'batchfault');
  const batchQueue = captureBatchQueue();
  const webhookQueue = captureWebhookQueue();
  const job = await callJson('POST', '/v1/jobs', 202, {
    body: { model, input: { rows }, chunk_size: CHUNK, webhook_url: 'http://127.0.0.1:9/done' },
  });
  const plan = await consumeWith(env as any, BATCH, drain(batchQueue));
  expect(plan.acked).toHaveLength(1);
  return { job, batchQueue, webhookQueue };
}

/** Delivers the chunk messages with `faults`, then every retried one again (as the queue would) until none is left. */
async function deliverChunks(run: Run, faults: Faults) {
  let pending = drain(run.batchQueue);
  expect(pending).toHaveLength(Math.ceil(ROWS / CHUNK));
  const retries: unknown[] = [];
  for (let attempt = 1; pending.length > 0 && attempt <= 5; attempt++) {
    const result = await consumeWith(faults.env, BATCH, pending, attempt);
    retries.push(...result.retried);
    pending = result.retried;
  }
  return retries;
}

/** The job ended once, with every row exactly once and right, and one completion event for its webhook. */
async function expectEndedOnce(run: Run) {
  const job = await callJson('GET', `/v1/jobs/${run.job.id}`, 200);
  expect(job).toMatchObject({ status: 'succeeded', rows: { total: ROWS, done: ROWS, failed: 0 } });
  const lines = await resultLines(run.job.id);
  expect(lines.map((l) => l.index)).toEqual(rows.map((_, k) => k));
  lines.forEach((l) => expect(l.prediction).toBeCloseTo(predicted(l.index), 5));
  const deliveries = await env.DB.prepare('select id, event from webhook_deliveries where job_id = ?')
    .bind(run.job.id)
    .all<{ id: string; event: string }>();
  expect(deliveries.results.map((d) => d.event)).toEqual(['job.succeeded']);
  const queued = drain(run.webhookQueue).filter((m) => m.deliveryId === deliveries.results[0]!.id);
  expect(queued).toHaveLength(1);
  return deliveries.results[0]!.id;
}

/** Every chunk message delivered once more, late: nothing may change. */
async function redeliverAll(run: Run, faults: Faults) {
  const indexes = Array.from({ length: Math.ceil(ROWS / CHUNK) }, (_, index) => ({
    kind: 'chunk',
    jobId: run.job.id,
    index,
  }));
  const result = await consumeWith(faults.env, BATCH, indexes, 3);
  expect(result.acked).toHaveLength(indexes.length);
}

reportFaults('batch');

describe('a chunk whose processing fails once', () => {
  const cases: [string, FaultRule][] = [
    ['R2 refuses the chunk’s result file', { binding: 'BUCKET', method: 'put', when: chunkResultPut(1), times: 1 }],
    ['D1 refuses the chunk’s record', { binding: 'DB', method: QUERY, when: chunkRecord, times: 1 }],
    ['D1 refuses the job’s end', { binding: 'DB', method: QUERY, when: jobEnd, times: 1 }],
    ['R2 refuses the input read', { binding: 'BUCKET', method: 'get', times: 1 }],
  ];
  for (const [what, rule] of cases) {
    it(`${what}: retried with backoff, the job ends once with every row once`, async () => {
      const run = await plannedJob();
      const faults = faultyEnv().add(rule);
      const retried = await deliverChunks(run, faults);
      expect(faults.faultsOn(rule.binding)).toBe(1);
      expect(retried).toHaveLength(1);
      await redeliverAll(run, faults);
      await expectEndedOnce(run);
    });
  }

  it('the retry waits with backoff (BATCH_RETRY_BASE_SECONDS, doubling)', async () => {
    const run = await plannedJob();
    const faults = faultyEnv().add({ binding: 'BUCKET', method: 'put', when: chunkResultPut(0) });
    const [first] = drain(run.batchQueue);
    const delays = [];
    for (let attempt = 1; attempt <= 3; attempt++)
      delays.push(...(await consumeWith(faults.env, BATCH, [first], attempt)).delays);
    expect(delays).toEqual([5, 10, 20]);
    const chunk = await env.DB.prepare(
      'select status, attempts, last_error from job_chunks where job_id = ? and idx = 0',
    )
      .bind(run.job.id)
      .first<any>();
    expect(chunk).toMatchObject({ status: 'pending', attempts: 3, last_error: realOutage('BUCKET', 'put').message });
  });
});

describe('the job’s completion event when the webhook queue refuses it', () => {
  it('the job still ends once; the cron trigger queues the recorded delivery later, once', async () => {
    const run = await plannedJob();
    const faults = faultyEnv().add({ binding: 'WEBHOOK_QUEUE', method: 'sendBatch' });
    const retried = await deliverChunks(run, faults);
    expect(retried).toEqual([]);
    expect(faults.faultsOn('WEBHOOK_QUEUE')).toBe(1);
    const job = await callJson('GET', `/v1/jobs/${run.job.id}`, 200);
    expect(job.status).toBe('succeeded');
    const delivery = await env.DB.prepare('select id, status, attempts from webhook_deliveries where job_id = ?')
      .bind(run.job.id)
      .first<any>();
    expect(delivery).toMatchObject({ status: 'pending', attempts: 0 });
    expect(drain(run.webhookQueue).filter((m) => m.deliveryId === delivery.id)).toEqual([]);

    // Younger than the grace period: it may still be on its way.
    await scheduledWith(env as any, Date.now());
    expect(drain(run.webhookQueue).filter((m) => m.deliveryId === delivery.id)).toEqual([]);
    await scheduledWith(env as any, Date.now() + 901_000);
    expect(drain(run.webhookQueue).filter((m) => m.deliveryId === delivery.id)).toEqual([
      { kind: 'deliver', deliveryId: delivery.id },
    ]);
    await scheduledWith(env as any, Date.now() + 1_802_000);
    expect(drain(run.webhookQueue).filter((m) => m.deliveryId === delivery.id)).toEqual([]);
  });
});

describe('submitting a job when a store fails', () => {
  async function counts(model: string) {
    const jobs = await env.DB.prepare('select count(*) as n from jobs where model_name = ?').bind(model).first<any>();
    const uploads = await env.DB.prepare('select count(*) as n from uploads').first<any>();
    const files = await env.BUCKET.list({ prefix: 'uploads/' });
    return { jobs: jobs.n, uploads: uploads.n, files: files.objects.length };
  }

  const cases: [string, FaultRule, string][] = [
    ['the batch queue refuses the plan message', { binding: 'BATCH_QUEUE', method: 'send' }, 'Queues'],
    [
      'D1 refuses the job row',
      { binding: 'DB', method: QUERY, when: (sql: string) => sql.startsWith('insert into "jobs"') },
      'D1',
    ],
  ];
  for (const [what, rule, store] of cases) {
    it(`${what}: 503, and neither the job nor its inline input is left`, async () => {
      const model = await newModel(fixture('generated/regressor.onnx'), 'submitfault');
      const before = await counts(model);
      const faults = faultyEnv().add(rule);
      const res = await sendJson(faults.env, 'POST', '/v1/jobs', { body: { model, input: { rows } } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.body.error).toMatchObject({ code: 'storage_unavailable' });
      expect(res.body.error.message).toContain(`(${store})`);
      expect(faults.faultsOn(rule.binding)).toBe(1);
      expect(await counts(model)).toEqual(before);
      expect((await callJson('GET', `/v1/jobs?model=${model}`, 200)).jobs).toEqual([]);
    });
  }

  it('the planner’s chunk messages are refused once: the plan is retried and every row scored once', async () => {
    const model = await newModel(fixture('generated/regressor.onnx'), 'planfault');
    const batchQueue = captureBatchQueue();
    const webhookQueue = captureWebhookQueue();
    const job = await callJson('POST', '/v1/jobs', 202, {
      body: { model, input: { rows }, chunk_size: CHUNK, webhook_url: 'http://127.0.0.1:9/done' },
    });
    const faults = faultyEnv().add({ binding: 'BATCH_QUEUE', method: 'sendBatch', times: 1 });
    const plan = drain(batchQueue);
    const first = await consumeWith(faults.env, BATCH, plan, 1);
    expect(first.retried).toEqual(plan);
    expect(await consumeWith(faults.env, BATCH, plan, 2)).toMatchObject({ acked: plan });
    const run = { job, batchQueue, webhookQueue };
    expect(await deliverChunks(run, faults)).toEqual([]);
    await expectEndedOnce(run);
  });
});
