import { env } from 'cloudflare:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  call,
  callJson,
  createKey,
  fixture,
  newModel,
  registerUser,
  testWorker,
  uniqueName,
  uploadRaw,
} from '../helpers';
import { captureBatchQueue, runAll } from '../batch/queue-driver';

afterEach(() => vi.restoreAllMocks());

const body = (rows: number[][]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 2], data: rows }] });

/** The known sequence of requests the assertions below count. */
async function traffic(name: string, token?: string) {
  const path = `/v2/models/${name}/infer`;
  const post = (p: string, b: object, headers?: Record<string, string>) => call('POST', p, { body: b, headers, token });
  expect((await post(path, body([[1, 1]]))).headers.get('x-cache')).toBe('MISS'); // 1 row
  expect((await post(path, body([[1, 1]]))).headers.get('x-cache')).toBe('HIT'); // 1 row
  const bypass = await post(
    path,
    body([
      [2, 2],
      [3, 3],
    ]),
    { 'cache-control': 'no-store' },
  );
  expect(bypass.headers.get('x-cache')).toBe('BYPASS'); // 2 rows
  expect((await post(path, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] })).status).toBe(
    400,
  );
  const instances = await post(`/v1/models/${name}/predict`, {
    instances: [
      [4, 4],
      [5, 5],
      [6, 6],
    ],
  });
  expect(instances.headers.get('x-cache')).toBe('MISS'); // 3 rows
  expect((await post(`/v2/models/no-such-model-here/infer`, body([[1, 1]]))).status).toBe(404); // not counted: no version
}

describe('metrics', () => {
  let name: string;
  beforeAll(async () => {
    // Uploaded through another worker, whose isolate keeps the validated session: the traffic's
    // first prediction loads the model (one load).
    name = uniqueName('metrics');
    expect((await uploadRaw(name, fixture('generated/regressor.onnx'), { via: testWorker() })).status).toBe(201);
    await traffic(name);
  });

  it('model stats count exactly what happened', async () => {
    const stats = await callJson('GET', `/v1/models/${name}/stats?window=1h`, 200);
    expect(stats.total).toMatchObject({
      requests: 5,
      rows: 7,
      errors: { client: 1, server: 0 },
      error_rate: 0.2,
      cache: { hits: 1, misses: 2, bypasses: 1, hit_ratio: 1 / 3 },
      batch_rows: { succeeded: 0, failed: 0 },
      loads: { count: 1 },
    });
    for (const q of ['p50', 'p95', 'p99'] as const) expect(stats.total.latency_ms[q]).toBeGreaterThanOrEqual(0);
    expect(stats.total.latency_ms.p50).toBeLessThanOrEqual(stats.total.latency_ms.p99);
    expect(stats.versions).toHaveLength(1);
    expect(stats.versions[0]).toMatchObject({ version: 1, requests: 5 });
    expect(stats.series.length).toBeGreaterThanOrEqual(60);
    expect(stats.series.reduce((n: number, p: any) => n + p.requests, 0)).toBe(5);
    expect(stats.window.step_minutes).toBe(1);
  });

  it('windows, versions and validation', async () => {
    const day = await callJson('GET', `/v1/models/${name}/stats?window=7d`, 200);
    expect(day.total.requests).toBe(5);
    // Round steps, 60 to 120 points, buckets on multiples of the step.
    expect(day.window.step_minutes).toBe(120);
    expect(day.series.length).toBeGreaterThanOrEqual(84);
    expect(day.series.length).toBeLessThanOrEqual(85);
    for (const p of day.series) expect(Date.parse(p.at) % (120 * 60000)).toBe(0);
    const quarterHours = await callJson('GET', `/v1/models/${name}/stats?window=24h`, 200);
    expect(quarterHours.window.step_minutes).toBe(15);
    expect(quarterHours.series.reduce((n: number, p: any) => n + p.requests, 0)).toBe(5);
    expect((await callJson('GET', `/v1/models/${name}/stats?version=1`, 200)).total.requests).toBe(5);
    expect((await callJson('GET', `/v1/models/${name}/stats?window=31d`, 400)).error.message).toMatch(
      /window must be 1m to 30d/,
    );
    expect((await callJson('GET', `/v1/models/${name}/stats?window=soon`, 400)).error.message).toMatch(
      /window is a number and a unit/,
    );
    expect((await callJson('GET', `/v1/models/no-model-like-this/stats`, 404)).error.code).toBe('model_not_found');
  });

  it('batch rows are counted once per chunk, duplicates included', async () => {
    const model = await newModel(fixture('generated/regressor.onnx'), 'batchm');
    const captured = captureBatchQueue();
    await callJson('POST', '/v1/jobs', 202, { body: { model, input: { rows: [[1, 1], [2, 2], 'x'] }, chunk_size: 2 } });
    const messages = [...captured];
    await runAll(captured);
    // every message again: nothing new may be counted
    captured.push(...messages.filter((m) => m.body.kind === 'chunk'));
    await runAll(captured);
    // Written by the consumer when its batch ended, not left in the isolate's buffer.
    const written = await env.DB.prepare(
      'select batch_rows_ok as ok, batch_rows_failed as failed from metric_totals where model = ?',
    )
      .bind(model)
      .first();
    expect(written).toEqual({ ok: 2, failed: 1 });
    const stats = await callJson('GET', `/v1/models/${model}/stats`, 200);
    expect(stats.total.batch_rows).toEqual({ succeeded: 2, failed: 1 });
    expect(stats.total.requests).toBe(0);
  });
});

describe('GET /metrics', () => {
  const scrape = (token: string | null) => call('GET', '/metrics', { token });

  it('is Prometheus text that a real parser reads, with exact values for a known sequence', async () => {
    // A workspace of its own, scraped by its admin key: one series per family.
    const user = await registerUser('prom');
    // Uploaded through another worker, so the traffic's first prediction loads the model here.
    expect(
      (await uploadRaw('scored', fixture('generated/regressor.onnx'), { token: user.token, via: testWorker() })).status,
    ).toBe(201);
    await traffic('scored', user.token);
    const admin = await createKey(['admin'], { token: user.token });
    const res = await scrape(admin.key);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    const families = parsePrometheusTextFormat(text) as any[];
    const family = (n: string) => families.find((f) => f.name === n)!;
    const sample = (n: string, extra: Record<string, string> = {}) =>
      family(n).metrics.find((m: any) => Object.entries(extra).every(([k, v]) => m.labels?.[k] === v));
    const labels = { workspace: user.workspaceId, model: 'scored', version: '1' };
    expect(sample('modelflare_inference_request_success_total')).toEqual({ labels, value: '4' });
    expect(sample('modelflare_inference_request_failure_total', { reason: 'client' }).value).toBe('1');
    expect(sample('modelflare_inference_request_failure_total', { reason: 'server' }).value).toBe('0');
    expect(sample('modelflare_inference_count_total').value).toBe('7');
    expect(sample('modelflare_cache_hit_total').value).toBe('1');
    expect(sample('modelflare_cache_miss_total').value).toBe('2');
    expect(sample('modelflare_cache_bypass_total').value).toBe('1');
    expect(sample('modelflare_model_load_total').value).toBe('1');
    expect(family('modelflare_inference_duration_seconds').type).toBe('HISTOGRAM');
    // The parser keeps a labelled histogram's buckets (not its _sum and _count): read those as lines.
    const buckets = family('modelflare_inference_duration_seconds').metrics[0].buckets;
    expect(buckets['+Inf']).toBe('5');
    const bounds = Object.keys(buckets)
      .map(Number)
      .sort((a, b) => a - b); // '+Inf' reads as Infinity
    expect(bounds).toHaveLength(14);
    const counts = bounds.map((b) => Number(buckets[b === Infinity ? '+Inf' : String(b)]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b)); // cumulative
    expect(text).toMatch(/^modelflare_inference_duration_seconds_count\{[^}]*model="scored"[^}]*\} 5$/m);
    expect(text).toMatch(/^modelflare_inference_duration_seconds_sum\{[^}]*\} [\d.e-]+$/m);
  });

  it('has drift (PSI, KS per feature), quality (MAE) and alert gauges of the workspace only', async () => {
    const user = await registerUser('gauges');
    const as = { token: user.token };
    await callJson('POST', '/v1/models', 201, {
      ...as,
      body: { name: 'watched', task: 'regression', feature_names: ['a', 'b'], monitoring: { log_sample_rate: 1 } },
    });
    expect((await uploadRaw('watched', fixture('generated/regressor.onnx'), as)).status).toBe(201);
    const baseline = Array.from({ length: 200 }, (_, i) => [(i % 20) / 2, (i % 7) - 3]);
    await callJson('PUT', '/v1/models/watched/versions/1/baseline', 200, { ...as, body: { rows: baseline } });
    const live = baseline.map(([a, b]) => [a! + 3, b!]);
    const res = await call('POST', '/v2/models/watched/infer', { ...as, body: body(live) });
    expect(res.status).toBe(200);
    // y = 2·a − b + 0.5; true values one off on every row: MAE 1.
    const id = res.headers.get('x-prediction-id')!;
    let logged;
    for (let i = 0; i < 100 && !(logged = await call('GET', `/v1/predictions/${id}`, as)).ok; i++)
      await new Promise((r) => setTimeout(r, 10));
    const predicted = ((await logged!.json()) as { predicted: number[] }).predicted;
    await callJson('POST', `/v1/predictions/${id}/feedback`, 201, {
      ...as,
      body: { actual: predicted.map((y) => y + 1) },
    });
    let report;
    for (let i = 0; i < 100; i++) {
      report = await callJson('POST', '/v1/models/watched/drift/check', 200, as);
      if (report.rows >= 200) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const rule = await callJson('POST', '/v1/models/watched/alerts', 201, {
      ...as,
      body: { metric: 'mae', threshold: 5 },
    });
    const admin = await createKey(['admin'], as);
    const text = await (await scrape(admin.key)).text();
    const families = parsePrometheusTextFormat(text) as any[];
    const values = (n: string) =>
      Object.fromEntries(
        (families.find((f) => f.name === n)?.metrics ?? []).map((m: any) => [
          m.labels.feature ?? m.labels.alert ?? '',
          Number(m.value),
        ]),
      );
    for (const f of report.features) {
      expect(values('modelflare_drift_psi')[f.name]).toBeCloseTo(f.psi, 9);
      expect(values('modelflare_drift_ks')[f.name]).toBeCloseTo(f.ks, 9);
    }
    expect(values('modelflare_drift_psi').a).toBeGreaterThan(1);
    expect(values('modelflare_model_mae')['']).toBeCloseTo(1, 5);
    expect(values('modelflare_model_feedback_rows')['']).toBe(200);
    expect(values('modelflare_model_accuracy')).toEqual({});
    expect(values('modelflare_alert_firing')).toEqual({ [rule.id]: 0 });
    expect(text).toMatch(/^# TYPE modelflare_drift_psi gauge$/m);
    // Another workspace's admin sees none of it.
    const other = await registerUser('gauges-other');
    const theirs = await (await scrape((await createKey(['admin'], { token: other.token })).key)).text();
    expect(theirs).not.toContain(user.workspaceId);
    expect(theirs).not.toMatch(/^modelflare_drift_psi\{/m);
  });

  it('quality gauges equal what /performance reports, a class index read as its label', async () => {
    const user = await registerUser('quality');
    const as = { token: user.token };
    await callJson('POST', '/v1/models', 201, {
      ...as,
      body: {
        name: 'species',
        task: 'classification',
        feature_names: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
        class_labels: ['setosa', 'versicolor', 'virginica'],
        monitoring: { log_sample_rate: 1 },
      },
    });
    expect((await uploadRaw('species', fixture('generated/iris.onnx'), as)).status).toBe(201);
    // setosa, virginica, versicolor predicted; told: right (by label), right (by index 2), wrong
    // (an index no label has).
    const res = await call('POST', '/v1/models/species/predict', {
      ...as,
      body: {
        instances: [
          [5.0, 3.4, 1.5, 0.2],
          [6.8, 3.1, 5.8, 2.3],
          [5.9, 2.9, 4.3, 1.3],
        ],
      },
    });
    const id = res.headers.get('x-prediction-id')!;
    for (let i = 0; i < 100 && !(await call('GET', `/v1/predictions/${id}`, as)).ok; i++)
      await new Promise((r) => setTimeout(r, 10));
    await callJson('POST', `/v1/predictions/${id}/feedback`, 201, { ...as, body: { actual: ['setosa', 2, -1] } });
    const performance = await callJson('GET', '/v1/models/species/performance?window=1d', 200, as);
    expect(performance.metrics.accuracy).toBeCloseTo(2 / 3, 12);
    const admin = await createKey(['admin'], as);
    const text = await (await scrape(admin.key)).text();
    const accuracy = /^modelflare_model_accuracy\{[^}]*model="species"[^}]*\} (\S+)$/m.exec(text);
    expect(Number(accuracy![1])).toBeCloseTo(performance.metrics.accuracy, 12);
    expect(text).toMatch(/^modelflare_model_feedback_rows\{[^}]*model="species"[^}]*\} 3$/m);
    expect(text).not.toMatch(/^modelflare_model_mae\{[^}]*model="species"/m);
  });

  it('needs the admin key, the scrape token, or a workspace admin (who sees their own workspace)', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('not-a-token')).status).toBe(401);
    expect((await scrape('test-scrape-token-0123456789')).status).toBe(200);
    const user = await registerUser('prom');
    expect((await uploadRaw('mine', fixture('generated/regressor.onnx'), { token: user.token })).status).toBe(201);
    await call('POST', '/v2/models/mine/infer', { token: user.token, body: body([[1, 2]]) });
    const viewer = await createKey(['models:read'], { token: user.token });
    expect((await scrape(viewer.key)).status).toBe(403);
    const admin = await createKey(['admin'], { token: user.token });
    const text = await (await scrape(admin.key)).text();
    const workspaces = new Set([...text.matchAll(/workspace="([^"]+)"/g)].map((m) => m[1]));
    expect([...workspaces]).toEqual([user.workspaceId]);
  });
});
