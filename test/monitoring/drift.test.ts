import { createExecutionContext, createScheduledController, env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../workers/index';
import { ks, psi } from '../../workers/monitoring/drift/statistics';
import { call, callJson, fixture, infer, newModel, uniqueName, uploadRaw } from '../helpers';
import { captureWebhookQueue, deliveredEvents, drain } from '../batch/queue-driver';

afterEach(async () => {
  vi.restoreAllMocks();
  for (const hook of (await callJson('GET', '/v1/webhooks', 200)).webhooks)
    await call('DELETE', `/v1/webhooks/${hook.id}`);
});

/** Seeded standard normals (mulberry32 + Box–Muller): the same sample every run. */
function normals(seed: number, n: number, mean = 0): number[] {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from(
    { length: n },
    () => mean + Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
  );
}

const rowsOf = (seed: number, n: number, shift = 0) => {
  const a = normals(seed, n, shift);
  const b = normals(seed + 1000, n, shift);
  return a.map((x, i) => [x, b[i]!]);
};

async function watchedModel(): Promise<string> {
  const name = uniqueName('drift');
  await callJson('POST', '/v1/models', 201, { body: { name, task: 'regression', feature_names: ['a', 'b'] } });
  expect((await uploadRaw(name, fixture('generated/regressor.onnx'))).status).toBe(201);
  return name;
}

/** Large baselines go through an upload (inline JSON bodies are capped at MAX_JSON_BODY_BYTES). */
async function uploaded(rows: number[][]): Promise<{ upload_id: string }> {
  const body = new TextEncoder().encode(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const upload = await callJson('POST', '/v1/uploads', 201, {
    body,
    headers: { 'content-type': 'application/x-ndjson' },
  });
  return { upload_id: upload.id };
}

async function send(name: string, rows: number[][]) {
  for (let i = 0; i < rows.length; i += 100) {
    const batch = rows.slice(i, i + 100);
    const res = await infer(`/v2/models/${name}/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [batch.length, 2], data: batch }],
    });
    expect(res.status).toBe(200);
  }
}

/** Checks until the report has seen every row sent (counts land after the responses). */
async function check(name: string, rows: number): Promise<any> {
  for (let i = 0; i < 100; i++) {
    const report = await callJson('POST', `/v1/models/${name}/drift/check`, 200);
    if (report.rows >= rows) return report;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the drift counts never reached the rows sent');
}

describe('drift statistics', () => {
  it('PSI and KS of identical distributions are 0; of disjoint ones, large', () => {
    expect(psi([10, 20, 30], [10, 20, 30])).toBe(0);
    expect(ks([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 12);
    expect(ks([10, 0], [0, 10])).toBe(1);
    expect(psi([100, 0], [0, 100])).toBeGreaterThan(5);
  });
});

describe('drift detection', () => {
  it('does not flag an unshifted sample and flags a shifted one, announcing drift.detected once', async () => {
    const calm = await watchedModel();
    const baseline = await callJson('PUT', `/v1/models/${calm}/versions/1/baseline`, 200, {
      body: await uploaded(rowsOf(1, 2000)),
    });
    expect(baseline).toMatchObject({ source: 'rows', status: 'ready', rows: 2000 });
    expect(baseline.features.map((f: any) => [f.name, f.kind, f.bins])).toEqual([
      ['a', 'numeric', 10],
      ['b', 'numeric', 10],
    ]);
    await send(calm, rowsOf(7, 1000));
    const ok = await check(calm, 1000);
    expect(ok).toMatchObject({ status: 'ok', rows: 1000, window_hours: 24 });
    for (const f of ok.features) {
      expect(f.drifted).toBe(false);
      expect(f.psi).toBeLessThan(0.1);
      expect(f.ks).toBeLessThan(0.1);
    }

    const shifted = await watchedModel();
    const hook = await callJson('POST', '/v1/webhooks', 201, {
      body: { url: 'http://127.0.0.1:9/drift', events: ['drift.detected'] },
    });
    await callJson('PUT', `/v1/models/${shifted}/versions/1/baseline`, 200, { body: await uploaded(rowsOf(1, 2000)) });
    await send(shifted, rowsOf(7, 1000, 1));
    const webhooks = captureWebhookQueue();
    const drifted = await check(shifted, 1000);
    expect(drifted.status).toBe('drifted');
    for (const f of drifted.features) {
      expect(f.drifted).toBe(true);
      expect(f.psi).toBeGreaterThan(0.5);
      expect(f.ks).toBeGreaterThan(0.3);
    }
    await callJson('POST', `/v1/models/${shifted}/drift/check`, 200); // drifted again: no second event
    const sent = drain(webhooks);
    expect(sent).toHaveLength(1);
    const [event] = await deliveredEvents(sent, hook.secret);
    expect(event).toMatchObject({ type: 'drift.detected', data: { model: shifted, version: 1, rows: 1000 } });
    expect(event.data.features.map((f: any) => f.name)).toEqual(['a', 'b']);

    const status = await callJson('GET', `/v1/models/${shifted}/drift`, 200);
    expect(status).toMatchObject({
      model: shifted,
      version: 1,
      baseline: { status: 'ready' },
      report: { status: 'drifted' },
    });
    const history = await callJson('GET', `/v1/models/${shifted}/drift/history?limit=1`, 200);
    expect(history.reports).toHaveLength(1);
    const older = await callJson(
      'GET',
      `/v1/models/${shifted}/drift/history?limit=5&cursor=${history.next_cursor}`,
      200,
    );
    expect(older.reports.length).toBeGreaterThanOrEqual(1);
  });

  it('thresholds are per model', async () => {
    const name = await watchedModel();
    await callJson('PUT', `/v1/models/${name}/versions/1/baseline`, 200, { body: await uploaded(rowsOf(1, 2000)) });
    await send(name, rowsOf(7, 1000, 0.3));
    const strict = await check(name, 1000);
    expect(strict.status).toBe('drifted');
    expect(strict.thresholds).toEqual({ psi: 0.2, ks: 0.1 });
    await callJson('PATCH', `/v1/models/${name}`, 200, {
      body: { monitoring: { drift: { psi_threshold: 5, ks_threshold: 0.9 } } },
    });
    const lenient = await check(name, 1000);
    expect(lenient).toMatchObject({ status: 'ok', thresholds: { psi: 5, ks: 0.9 } });
    // Each report keeps the thresholds it was judged by: the history can draw them as they were.
    const history = await callJson('GET', `/v1/models/${name}/drift/history?window=1h`, 200);
    expect(history.reports.map((r: any) => [r.status, r.thresholds.psi])).toEqual([
      ['ok', 5],
      ['drifted', 0.2],
    ]);
    // A window that ends before the reports were made keeps none of them.
    await env.DB.prepare('update drift_reports set created_at = created_at - 7200000 where model = ?').bind(name).run();
    expect((await callJson('GET', `/v1/models/${name}/drift/history?window=1h`, 200)).reports).toEqual([]);
    expect((await callJson('GET', `/v1/models/${name}/drift/history?window=3h`, 200)).reports).toHaveLength(2);
    expect((await callJson('GET', `/v1/models/${name}/drift/history?window=5y`, 400)).error.message).toMatch(
      /window is a number and a unit/,
    );
  });

  it('captures a baseline from the first predictions, then measures against it', async () => {
    const name = await watchedModel();
    const capturing = await callJson('PUT', `/v1/models/${name}/versions/1/baseline`, 200, { body: { capture: 300 } });
    expect(capturing).toMatchObject({
      source: 'capture',
      status: 'capturing',
      rows: 0,
      target_rows: 300,
      features: null,
    });
    expect((await callJson('POST', `/v1/models/${name}/drift/check`, 400)).error.code).toBe('baseline_not_ready');
    await send(name, rowsOf(3, 400));
    let baseline;
    for (let i = 0; i < 100; i++) {
      baseline = await callJson('GET', `/v1/models/${name}/versions/1/baseline`, 200);
      if (baseline.status === 'ready') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(baseline).toMatchObject({ status: 'ready', rows: 300 });
    expect(baseline.features).toHaveLength(2);
    await send(name, rowsOf(11, 200));
    expect((await check(name, 200)).status).toBe('ok');
  });

  it('reports insufficient data under 100 rows, and runs from the cron trigger', async () => {
    const name = await watchedModel();
    await callJson('PUT', `/v1/models/${name}/versions/1/baseline`, 200, { body: { rows: rowsOf(1, 500) } });
    await send(name, rowsOf(5, 50));
    const report = await callJson('POST', `/v1/models/${name}/drift/check`, 200);
    expect(report.status).toBe('insufficient_data');
    const before = (await callJson('GET', `/v1/models/${name}/drift/history`, 200)).reports.length;
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *', scheduledTime: Date.now() }), env, ctx);
    expect((await callJson('GET', `/v1/models/${name}/drift/history`, 200)).reports.length).toBe(before + 1);
  });

  it('refuses baselines it cannot use, naming why', async () => {
    const name = await watchedModel();
    expect(
      (await callJson('PUT', `/v1/models/${name}/versions/1/baseline`, 400, { body: { rows: rowsOf(1, 5) } })).error
        .message,
    ).toMatch(/a baseline needs 20 to 50000 rows; got 5/);
    expect(
      (
        await callJson('PUT', `/v1/models/${name}/versions/1/baseline`, 400, {
          body: { rows: Array(30).fill({ a: 1 }) },
        })
      ).error.message,
    ).toMatch(/baseline row 0 lacks feature 'b'/);
    expect((await callJson('GET', `/v1/models/${name}/versions/1/baseline`, 404)).error.code).toBe(
      'baseline_not_found',
    );
    const image = await newModel(fixture('models/onnx-node.test_averagepool_2d_default.onnx'), 'img');
    expect(
      (await callJson('PUT', `/v1/models/${image}/versions/1/baseline`, 400, { body: { capture: 100 } })).error.code,
    ).toBe('drift_unsupported');
    expect((await callJson('GET', `/v1/models/${name}/drift`, 200)).baseline).toBeNull();
  });
});
