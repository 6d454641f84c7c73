import { env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../workers/core/logger';
import { repairArtifacts } from '../../workers/registry/repair';
import { database } from '../../workers/storage/db';
import { UNNAMED } from '../../workers/storage/outage';
import { callJson, fixture, locationCache, locationRequest, newModel, regressorKey } from '../helpers';
import { send, sendJson, servicesOf } from './drive';
import { faultyEnv, type Faults } from './faulty-env';
import { reportFaults } from './report';

/*
 * Serving through store outages: a KV cache that fails or hangs is bypassed and predictions
 * stay right; D1 or R2 down answers 503 with Retry-After; a version whose file is gone answers
 * a clear 503, never a 500.
 */

const REGRESSOR = fixture('generated/regressor.onnx');
/** y = 2·x1 − x2 + 0.5 */
const expected = (x1: number, x2: number) => 2 * x1 - x2 + 0.5;
const inferBody = (x1: number, x2: number) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [x1, x2] }],
});

let next = 0;
/** Inputs no request has sent before, so every prediction goes to KV rather than the isolate's tier. */
const fresh = () => [++next, 1000 - next] as const;

async function predict(faults: Faults, model: string, x1: number, x2: number) {
  const { response, ctx } = await send(faults.env, 'POST', `/v2/models/${model}/infer`, { body: inferBody(x1, x2) });
  return { status: response.status, cache: response.headers.get('x-cache'), body: await response.json<any>(), ctx };
}

/** A regressor whose predictions go to KV too (KV is a per-model choice). */
async function sharedModel(prefix: string): Promise<string> {
  const model = await newModel(REGRESSOR, prefix);
  await callJson('PATCH', `/v1/models/${model}`, 200, { body: { cache: { shared: true } } });
  return model;
}

/** Drops this location's copy of a model's file (model-bytes.ts), so a cold load reads R2. */
async function dropModelCopy(model: string): Promise<void> {
  const row = await env.DB.prepare(
    'select v.sha256 from model_versions v join models m on m.id = v.model_id where m.name = ?',
  )
    .bind(model)
    .first<{ sha256: string }>();
  const copies = await caches.open('modelflare-artifacts');
  await copies.delete(new Request(`https://artifacts.modelflare.internal/sha256/${row!.sha256}`));
}

/** Drops the isolate's and this location's copies of one prediction, so the next read goes to KV. */
async function forgetNearCopies(faults: Faults, model: string, x1: number, x2: number): Promise<void> {
  servicesOf(faults.env).predictionCache.memory.clear();
  await (await locationCache()).delete(locationRequest(await regressorKey(model, [x1, x2])));
}

reportFaults('serving');

describe('KV cache down', () => {
  it('every read and write throws: predictions answer 200, right, computed (X-Cache: MISS)', async () => {
    const model = await sharedModel('kvdown');
    const faults = faultyEnv().add({ binding: 'CACHE', method: ['get', 'getWithMetadata', 'put'] });
    for (let i = 0; i < 10; i++) {
      const [x1, x2] = fresh();
      const res = await predict(faults, model, x1, x2);
      expect(res.status).toBe(200);
      expect(res.cache).toBe('MISS');
      expect(res.body.outputs[0].data).toEqual([expected(x1, x2)]);
      // The failed write ran after the response and did not escape it.
      await waitOnExecutionContext(res.ctx);
    }
    expect(faults.faultsOn('CACHE', 'getWithMetadata')).toBe(10);
    expect(faults.faultsOn('CACHE', 'put')).toBe(10);
  });

  it('reads that never answer are given up (CACHE_READ_TIMEOUT_MS); writes that never answer do not hold the response', async () => {
    const model = await sharedModel('kvhang');
    const faults = faultyEnv({ CACHE_READ_TIMEOUT_MS: '50' }).add({
      binding: 'CACHE',
      method: ['getWithMetadata', 'put'],
      fault: 'hang',
    });
    for (let i = 0; i < 3; i++) {
      const [x1, x2] = fresh();
      const res = await predict(faults, model, x1, x2);
      expect(res.status).toBe(200);
      expect(res.cache).toBe('MISS');
      expect(res.body.outputs[0].data).toEqual([expected(x1, x2)]);
    }
    expect(faults.faultsOn('CACHE')).toBe(6);
  });

  it('comes back: the cache is used again', async () => {
    const model = await sharedModel('kvback');
    const faults = faultyEnv().add({ binding: 'CACHE', method: ['getWithMetadata', 'put'], times: 2 });
    const [x1, x2] = fresh();
    const first = await predict(faults, model, x1, x2);
    expect(first.cache).toBe('MISS');
    await waitOnExecutionContext(first.ctx);
    await forgetNearCopies(faults, model, x1, x2);
    const second = await predict(faults, model, x1, x2);
    expect(second.cache).toBe('MISS');
    await waitOnExecutionContext(second.ctx);
    await forgetNearCopies(faults, model, x1, x2);
    const third = await predict(faults, model, x1, x2);
    expect(third).toMatchObject({ status: 200, cache: 'HIT' });
    expect(third.body.outputs[0].data).toEqual([expected(x1, x2)]);
  });
});

describe('D1 or R2 down on the prediction path', () => {
  it('D1 down: 503 with Retry-After on V2 and /v1 routes, in each one’s error shape, no stack', async () => {
    const model = await newModel(REGRESSOR, 'd1pred');
    const faults = faultyEnv().add({ binding: 'DB', method: ['first', 'all', 'run', 'raw', 'batch'] });
    const v2 = await sendJson(faults.env, 'POST', `/v2/models/${model}/infer`, { body: inferBody(1, 2) });
    expect(v2.status).toBe(503);
    expect(v2.headers.get('retry-after')).toBe('5');
    expect(v2.body).toEqual({ error: expect.stringContaining('(D1)') });
    const meta = await sendJson(faults.env, 'GET', `/v2/models/${model}`);
    expect(meta.status).toBe(503);
    const v1 = await sendJson(faults.env, 'POST', `/v1/models/${model}/predict`, { body: { instances: [[1, 2]] } });
    expect(v1.status).toBe(503);
    expect(v1.body.error).toMatchObject({ code: 'storage_unavailable', request_id: expect.any(String) });
    for (const body of [v2.body, meta.body, v1.body]) expect(JSON.stringify(body)).not.toMatch(/Failed query|\.ts:\d/);
    expect(faults.faultsOn('DB')).toBeGreaterThanOrEqual(3);
    faults.heal();
    const healed = await sendJson(faults.env, 'POST', `/v2/models/${model}/infer`, { body: inferBody(1, 2) });
    expect(healed.status).toBe(200);
    expect(healed.body.outputs[0].data).toEqual([expected(1, 2)]);
  });

  it('R2 down while a cold isolate loads the model: 503, then served once R2 answers', async () => {
    const model = await newModel(REGRESSOR, 'r2pred');
    // The regressor's bytes are every test's: drop this location's copy so R2 is read.
    await dropModelCopy(model);
    const faults = faultyEnv().add({ binding: 'BUCKET', method: 'get' });
    const res = await sendJson(faults.env, 'POST', `/v2/models/${model}/infer`, {
      body: inferBody(3, 4),
      headers: { 'cache-control': 'no-store' },
    });
    expect(res.status).toBe(503);
    // Once R2's object is gone workerd's error does not name the store (storage/outage.ts).
    expect(res.body.error).toContain(`(${UNNAMED})`);
    expect(faults.faultsOn('BUCKET', 'get')).toBe(1);
    faults.heal();
    const healed = await sendJson(faults.env, 'POST', `/v2/models/${model}/infer`, { body: inferBody(3, 4) });
    expect(healed.status).toBe(200);
    expect(healed.body.outputs[0].data).toEqual([expected(3, 4)]);
  });
});

describe('a version whose file is missing from R2', () => {
  it('answers 503 artifact_missing on predict, ready and download, and the repair pass reports it', async () => {
    const model = await newModel(REGRESSOR, 'nofile');
    const row = await env.DB.prepare(
      'select v.id, v.artifact_key, v.sha256 from model_versions v join models m on m.id = v.model_id where m.name = ?',
    )
      .bind(model)
      .first<{ id: string; artifact_key: string; sha256: string }>();
    await env.BUCKET.delete(row!.artifact_key);
    // Nor in this location's copy of model files (model-bytes.ts); a faulty env's isolate
    // services start empty, so no session holds it either.
    const copies = await caches.open('modelflare-artifacts');
    await copies.delete(new Request(`https://artifacts.modelflare.internal/sha256/${row!.sha256}`));
    const faults = faultyEnv();
    const v2 = await sendJson(faults.env, 'POST', `/v2/models/${model}/infer`, { body: inferBody(1, 1) });
    expect(v2.status).toBe(503);
    expect(v2.body.error).toMatch(/missing from storage; upload the model again/);
    const v1 = await sendJson(faults.env, 'POST', `/v1/models/${model}/predict`, { body: { instances: [[1, 1]] } });
    expect(v1.status).toBe(503);
    expect(v1.body.error.code).toBe('artifact_missing');
    expect((await sendJson(faults.env, 'GET', `/v2/models/${model}/ready`)).status).toBe(503);
    const download = await sendJson(faults.env, 'GET', `/v1/models/${model}/versions/1/artifact`);
    expect(download.status).toBe(503);
    expect(download.body.error.code).toBe('artifact_missing');
    const report = await repairArtifacts(
      { db: database(env.DB), bucket: env.BUCKET, logger: createLogger() },
      Date.now() + 3600_000,
      900,
    );
    expect(report.missing).toEqual([{ versionId: row!.id, key: row!.artifact_key }]);
  });
});

describe('the readiness check', () => {
  it('answers 503 naming the store that hangs or fails, instead of hanging itself', async () => {
    const hanging = faultyEnv().add({ binding: 'CACHE', method: 'get', fault: 'hang' });
    const res = await sendJson(hanging.env, 'GET', '/v2/health/ready');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ ready: false, checks: { d1: true, r2: true, kv: false } });
    const failing = faultyEnv().add({ binding: 'BUCKET', method: 'head' });
    const down = await sendJson(failing.env, 'GET', '/v2/health/ready');
    expect(down.body).toMatchObject({ ready: false, checks: { d1: true, r2: false, kv: true } });
    expect((await sendJson(faultyEnv().env, 'GET', '/v2/health/ready')).status).toBe(200);
  });
});
