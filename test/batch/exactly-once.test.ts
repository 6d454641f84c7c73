import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callJson, fixture, newModel, resultLines } from '../helpers';
import { captureBatchQueue, captureWebhookQueue, consume, drain, type Captured } from './queue-driver';

/*
 * The batch guarantees at the moments where an early return cannot hide a missing guard: the
 * same chunk scored by two consumers at once while the job still runs, and a dead-letter
 * message that arrives after the job has ended. Rows, metrics and completion events must each
 * be counted once.
 */

afterEach(() => vi.restoreAllMocks());

const BATCH = 'modelflare-batch';
const DLQ = 'modelflare-batch-dlq';
const ROWS = 6;
const CHUNK = 3;
/** y = 2·x1 − x2 + 0.5 on row [k, 1] (generated/regressor.onnx). */
const rows = Array.from({ length: ROWS }, (_, k) => [k, 1]);
const predicted = (k: number) => 2 * k - 1 + 0.5;

interface Planned {
  model: string;
  id: string;
  chunks: { kind: 'chunk'; jobId: string; index: number }[];
  webhooks: Captured;
}

/** A fresh model and a job on it with its own webhook URL, planned; its chunk messages are returned, not run. */
async function plannedJob(): Promise<Planned> {
  const model = await newModel(fixture('generated/regressor.onnx'), 'once');
  const batch = captureBatchQueue();
  const webhooks = captureWebhookQueue();
  const job = await callJson('POST', '/v1/jobs', 202, {
    body: { model, input: { rows }, chunk_size: CHUNK, webhook_url: 'http://127.0.0.1:9/done' },
  });
  await consume(BATCH, drain(batch));
  const chunks = drain(batch);
  expect(chunks).toEqual([0, 1].map((index) => ({ kind: 'chunk', jobId: job.id, index })));
  return { model, id: job.id, chunks, webhooks };
}

/**
 * Holds every chunk's input read until `parties` of them are waiting, then lets them all go:
 * each consumer has read its chunk as pending before any of them records a result.
 */
function barrierOnInputReads(parties: number) {
  const realGet = env.BUCKET.get.bind(env.BUCKET);
  let arrived = 0;
  const spy = vi.spyOn(env.BUCKET, 'get').mockImplementation((async (key: string, options?: R2GetOptions) => {
    if (options?.range) {
      arrived += 1;
      for (let waited = 0; arrived < parties && waited < 5_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    }
    return realGet(key, options as R2GetOptions);
  }) as typeof env.BUCKET.get);
  return { arrived: () => arrived, restore: () => spy.mockRestore() };
}

async function batchRowMetrics(model: string) {
  return (await callJson('GET', `/v1/models/${model}/stats`, 200)).total.batch_rows;
}

async function deliveries(jobId: string) {
  const { results } = await env.DB.prepare('select id, event from webhook_deliveries where job_id = ?')
    .bind(jobId)
    .all<{ id: string; event: string }>();
  return results;
}

/** The job ended `succeeded` once: every row once and right, one event recorded and queued once. */
async function expectSucceededOnce(job: Planned) {
  expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toMatchObject({
    status: 'succeeded',
    rows: { total: ROWS, done: ROWS, failed: 0 },
    chunks: { total: 2, done: 2, failed: 0 },
  });
  const lines = await resultLines(job.id);
  expect(lines.map((l) => l.index)).toEqual(rows.map((_, k) => k));
  lines.forEach((l) => expect(l.prediction).toBeCloseTo(predicted(l.index), 5));
  expect(await batchRowMetrics(job.model)).toEqual({ succeeded: ROWS, failed: 0 });
  const recorded = await deliveries(job.id);
  expect(recorded.map((d) => d.event)).toEqual(['job.succeeded']);
  const queued = job.webhooks.filter((m) => m.body.deliveryId === recorded[0]!.id);
  expect(queued).toHaveLength(1);
}

describe('exactly once, where an early return cannot hide it', () => {
  it('one chunk delivered to two consumers at once while the job runs: its rows and metrics count once', async () => {
    const job = await plannedJob();
    const [first, second] = job.chunks;
    const barrier = barrierOnInputReads(2);
    const [a, b] = await Promise.all([consume(BATCH, [first]), consume(BATCH, [first])]);
    barrier.restore();
    // Both consumers reached the scoring of a pending chunk: the race this test is about happened.
    expect(barrier.arrived()).toBe(2);
    expect([...a.explicitAcks, ...b.explicitAcks]).toHaveLength(2);
    expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toMatchObject({
      status: 'running',
      rows: { done: CHUNK, failed: 0 },
    });
    expect(await batchRowMetrics(job.model)).toEqual({ succeeded: CHUNK, failed: 0 });

    await consume(BATCH, [second]);
    await expectSucceededOnce(job);
  });

  it('a dead-letter message for a chunk after the job succeeded changes nothing and announces nothing', async () => {
    const job = await plannedJob();
    await consume(BATCH, job.chunks);
    await expectSucceededOnce(job);
    const ended = await callJson('GET', `/v1/jobs/${job.id}`, 200);

    const late = await consume(DLQ, [job.chunks[0]], 4);
    expect(late.explicitAcks).toHaveLength(1);
    await expectSucceededOnce(job);
    expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toEqual(ended);
  });

  it('a dead-letter message for the plan after the job succeeded does not fail it', async () => {
    const job = await plannedJob();
    await consume(BATCH, job.chunks);
    const ended = await callJson('GET', `/v1/jobs/${job.id}`, 200);

    await consume(DLQ, [{ kind: 'plan', jobId: job.id }], 4);
    expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toEqual(ended);
    await expectSucceededOnce(job);
  });
});
