import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { evaluateRule } from '../../workers/monitoring/alerts/evaluate';
import { MetricsBuffer } from '../../workers/monitoring/metrics-buffer';
import { predictionExportKey, predictionExportPrefix } from '../../workers/storage/r2-keys';
import { alertRules } from '../../workers/storage/schema';
import { call, callJson, depsFor, fixture, infer, uniqueName, uploadRaw, waitForLogged } from '../helpers';

/*
 * Issue 13, point 8: after a purge an old prediction id answered 200 with its inputs, and a new
 * model of the same name showed the old logs and statistics.
 */

const MONITORING_BY_NAME = [
  'prediction_logs',
  'prediction_feedback',
  'metric_rollups',
  'metric_totals',
  'drift_reports',
  'alert_rules',
  'alert_events',
  'request_failures',
];
const MONITORING_BY_VERSION = ['drift_baselines', 'drift_captured_rows', 'drift_bins', 'drift_reports'];

async function countByName(table: string, name: string): Promise<number> {
  const row = await env.DB.prepare(`select count(*) as n from ${table} where workspace_id = 'ws_default' and model = ?`)
    .bind(name)
    .first<{ n: number }>();
  return row!.n;
}

async function countByVersion(table: string, versionId: string): Promise<number> {
  const row = await env.DB.prepare(`select count(*) as n from ${table} where version_id = ?`)
    .bind(versionId)
    .first<{ n: number }>();
  return row!.n;
}

async function versionIdOf(name: string): Promise<string> {
  const row = await env.DB.prepare(
    `select v.id from model_versions v join models m on m.id = v.model_id
     where m.workspace_id = 'ws_default' and m.name = ? and v.version = 1`,
  )
    .bind(name)
    .first<{ id: string }>();
  return row!.id;
}

/** Rows of the regressor, deterministic, around a mean. */
const rows = (n: number, shift = 0) =>
  Array.from({ length: n }, (_, i) => [((i * 37) % 100) / 10 + shift, (i % 7) + shift]);

async function monitoredModel(name: string): Promise<void> {
  await callJson('POST', '/v1/models', 201, {
    // Shared: its cached predictions go to KV too, which the purge must empty.
    body: {
      name,
      task: 'regression',
      feature_names: ['a', 'b'],
      monitoring: { log_sample_rate: 1 },
      cache: { shared: true },
    },
  });
  expect((await uploadRaw(name, fixture('generated/regressor.onnx'))).status).toBe(201);
}

describe('purge means gone', () => {
  it('deletes logs, feedback, statistics, drift data and cached predictions; a new model of the name starts empty', async () => {
    const name = uniqueName('purge');
    await monitoredModel(name);
    const versionId = await versionIdOf(name);

    // A logged prediction with feedback (served from the model, then from the cache).
    const first = await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[1, 2]] } });
    expect(first.headers.get('x-cache')).toBe('MISS');
    const predictionId = first.headers.get('x-prediction-id')!;
    await waitForLogged(predictionId);
    await callJson('POST', `/v1/predictions/${predictionId}/feedback`, 201, { body: { actual: 1 } });
    const again = await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[1, 2]] } });
    expect(again.headers.get('x-cache')).toBe('HIT');
    // A drift baseline, live traffic counted against it, and a report.
    await callJson('PUT', `/v1/models/${name}/versions/1/baseline`, 200, { body: { rows: rows(200) } });
    const traffic = rows(150, 3);
    expect(
      (
        await infer(`/v2/models/${name}/infer`, {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [150, 2], data: traffic }],
        })
      ).status,
    ).toBe(200);
    for (let i = 0; i < 100; i++) {
      if ((await callJson('POST', `/v1/models/${name}/drift/check`, 200)).rows >= 150) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // An alert rule that fired (its history), a failed request, a daily export file.
    const rule = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
      body: { metric: 'latency_p99_ms', condition: 'below', threshold: 3_600_000, min_samples: 1 },
    });
    expect(
      await evaluateRule(
        depsFor(),
        (await depsFor().db.select().from(alertRules).where(eq(alertRules.id, rule.id)))[0]!,
      ),
    ).toBe('fired');
    expect((await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[1]] } })).status).toBe(400);
    await env.BUCKET.put(predictionExportKey('ws_default', name, '2026-11-25'), '{}\n');
    for (const table of MONITORING_BY_NAME) expect(await countByName(table, name), table).toBeGreaterThan(0);
    for (const table of ['drift_baselines', 'drift_bins', 'drift_reports'])
      expect(await countByVersion(table, versionId), table).toBeGreaterThan(0);
    expect((await env.CACHE.list({ prefix: `pred:${versionId}:` })).keys.length).toBeGreaterThan(0);

    expect((await call('DELETE', `/v1/models/${name}?purge=true`)).status).toBe(204);

    expect((await callJson('GET', `/v1/predictions/${predictionId}`, 404)).error.code).toBe('prediction_not_found');
    for (const table of MONITORING_BY_NAME) expect(await countByName(table, name), table).toBe(0);
    for (const table of MONITORING_BY_VERSION) expect(await countByVersion(table, versionId), table).toBe(0);
    expect((await env.CACHE.list({ prefix: `pred:${versionId}:` })).keys).toEqual([]);
    expect((await env.BUCKET.list({ prefix: predictionExportPrefix('ws_default', name) })).objects).toEqual([]);
    const audit = await callJson('GET', '/v1/audit-log?limit=5', 200);
    expect(audit.entries.find((e: any) => e.target === `model:${name}`)?.details).toMatchObject({
      versions: 1,
      predictions: 3, // two predictions and the drift traffic
      feedback: 1,
      cachedPredictions: 2,
      alertRows: 2,
      failedRequests: 1,
      exportFiles: 1,
    });

    // The same name again: nothing of the old model shows.
    await monitoredModel(name);
    expect((await callJson('GET', `/v1/models/${name}/predictions`, 200)).predictions).toEqual([]);
    const stats = await callJson('GET', `/v1/models/${name}/stats?window=1h`, 200);
    expect(stats.total).toMatchObject({ requests: 0, rows: 0, cache: { hits: 0, misses: 0 } });
    expect(stats.versions).toEqual([]);
    expect((await callJson('GET', `/v1/models/${name}/performance`, 200)).count).toBe(0);
    expect((await callJson('GET', `/v1/models/${name}/versions/1/baseline`, 404)).error.code).toBe(
      'baseline_not_found',
    );
    expect((await callJson('GET', `/v1/models/${name}/drift/history`, 200)).reports).toEqual([]);
    expect((await callJson('GET', `/v1/models/${name}/alerts`, 200)).alerts).toEqual([]);
    expect((await callJson('GET', `/v1/models/${name}/alert-events`, 200)).events).toEqual([]);
    // Only the new model's own failure (its missing baseline, just now), not the old one's 400.
    expect((await callJson('GET', `/v1/models/${name}/errors`, 200)).errors.map((e: any) => e.code)).toEqual([
      'baseline_not_found',
    ]);
    const fresh = await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[1, 2]] } });
    expect(fresh.headers.get('x-cache')).toBe('MISS');
  });

  it('deletes rows in rounds: more logs than one delete takes, and more versions than one statement binds', async () => {
    const name = uniqueName('purge-many');
    await monitoredModel(name);
    await env.DB.prepare(
      `with recursive n(i) as (select 1 union all select i + 1 from n where i < 12001)
       insert into prediction_logs (id, workspace_id, model, version, request_id, inputs, outputs, rows, cache, created_at)
       select 'prd_many_' || i, 'ws_default', ?, 1, 'req', '{}', '[]', 1, 'MISS', 0 from n`,
    )
      .bind(name)
      .run();
    const ids = Array.from({ length: 150 }, (_, i) => `ver_gone_${name}_${i}`);
    const [model] = (await env.DB.prepare(`select id from models where name = ?`).bind(name).all<{ id: string }>())
      .results;
    // Versions 2..151 straight into D1 (an upload each would take minutes), with drift bins.
    for (const [i, id] of ids.entries()) {
      await env.DB.batch([
        env.DB.prepare(
          `insert into model_versions (id, model_id, workspace_id, version, sha256, size_bytes, artifact_key, signature, onnx, created_by, created_at)
           values (?, ?, 'ws_default', ?, ?, 1, ?, '{"inputs":[],"outputs":[],"unservedOutputs":[]}', '{}', 'test', 0)`,
        ).bind(id, model!.id, i + 2, id, `models/none/${id}`),
        env.DB.prepare(`insert into drift_bins (version_id, hour, feature, bin, count) values (?, 1, 0, 0, 1)`).bind(
          id,
        ),
      ]);
    }
    expect(await countByName('prediction_logs', name)).toBe(12001);
    expect((await call('DELETE', `/v1/models/${name}?purge=true`)).status).toBe(204);
    expect(await countByName('prediction_logs', name)).toBe(0);
    for (const id of [ids[0]!, ids[95]!, ids[149]!]) expect(await countByVersion('drift_bins', id)).toBe(0);
  });

  it('drops counts this isolate still buffers for the purged model', () => {
    const buffer = new MetricsBuffer();
    const bump = (c: { requests: number }) => void (c.requests += 1);
    buffer.add({ workspaceId: 'ws_a', model: 'gone', version: 1, minute: 1 }, bump);
    buffer.add({ workspaceId: 'ws_a', model: 'kept', version: 1, minute: 1 }, bump);
    buffer.add({ workspaceId: 'ws_b', model: 'gone', version: 1, minute: 1 }, bump);
    buffer.discard('ws_a', 'gone');
    expect(buffer.take().map((e) => `${e.key.workspaceId}/${e.key.model}`)).toEqual(['ws_a/kept', 'ws_b/gone']);
  });
});
