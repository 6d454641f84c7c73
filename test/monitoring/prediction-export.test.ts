import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { configFrom } from '../../workers/core/config';
import { exportDailyPredictions, PART_BYTES } from '../../workers/monitoring/export/daily';
import { EXPORT_PAGE, exportStream } from '../../workers/monitoring/export/stream';
import { database } from '../../workers/storage/db';
import { predictionExportKey } from '../../workers/storage/r2-keys';
import {
  call,
  callJson,
  createKey,
  depsFor,
  fixture,
  registerUser,
  uniqueName,
  uploadRaw,
  waitForLogged,
} from '../helpers';

/*
 * Issue 17, point 5: logged predictions out, with their feedback, as JSON Lines or CSV, and a
 * daily export to R2 under a documented key layout.
 */

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

async function iris(token?: string): Promise<string> {
  const name = uniqueName('export');
  await callJson('POST', '/v1/models', 201, {
    token,
    body: {
      name,
      task: 'classification',
      feature_names: FEATURES,
      class_labels: ['setosa', 'versicolor', 'virginica'],
      monitoring: { log_sample_rate: 1 },
    },
  });
  expect((await uploadRaw(name, fixture('generated/iris.onnx'), { token })).status).toBe(201);
  return name;
}

/** The body as text (Response.text() warns about a content type it does not know as text). */
const body = async (res: Response | Promise<Response>) => new TextDecoder().decode(await (await res).arrayBuffer());

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

/** Inserts logged predictions straight into D1 (thousands through the API would take minutes). */
async function insertLogs(workspaceId: string, model: string, rows: { id: string; at: number; inputs: string }[]) {
  const statements = rows.map((r) =>
    env.DB.prepare(
      `insert into prediction_logs (id, workspace_id, model, version, request_id, inputs, outputs, predicted, rows, cache, created_at)
       values (?, ?, ?, 1, ?, ?, '[]', '["setosa"]', 1, 'MISS', ?)`,
    ).bind(r.id, workspaceId, model, `req_${r.id}`, r.inputs, r.at),
  );
  for (let i = 0; i < statements.length; i += 50) await env.DB.batch(statements.slice(i, i + 50));
}

describe('GET /v1/models/{name}/predictions/export', () => {
  it('streams each predicted row with its input, prediction and feedback as JSON Lines', async () => {
    const name = await iris();
    const first = await call('POST', `/v1/models/${name}/predict`, {
      body: {
        instances: [
          { sepal_length: 5.0, sepal_width: 3.4, petal_length: 1.5, petal_width: 0.2 },
          { sepal_length: 6.8, sepal_width: 3.1, petal_length: 5.8, petal_width: 2.3 },
        ],
      },
    });
    const firstId = first.headers.get('x-prediction-id')!;
    await waitForLogged(firstId);
    const second = await call('POST', `/v2/models/${name}/infer`, {
      body: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.9, 2.9, 4.3, 1.3] }] },
    });
    const secondId = second.headers.get('x-prediction-id')!;
    await waitForLogged(secondId);
    await callJson('POST', `/v1/predictions/${firstId}/feedback`, 201, { body: { actual: ['setosa', 'versicolor'] } });

    const res = await call('GET', `/v1/models/${name}/predictions/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      new RegExp(`^attachment; filename="${name}-predictions-\\d{4}-\\d{2}-\\d{2}-\\d{4}-\\d{2}-\\d{2}\\.jsonl"$`),
    );
    const rows = lines(await body(res));
    expect(rows).toEqual([
      {
        prediction_id: firstId,
        row: 0,
        created_at: expect.any(String),
        model: name,
        version: 1,
        request_id: first.headers.get('x-request-id'),
        input: { sepal_length: 5.0, sepal_width: 3.4, petal_length: 1.5, petal_width: 0.2 },
        predicted: 'setosa',
        actual: 'setosa',
        feedback_at: expect.any(String),
      },
      expect.objectContaining({ prediction_id: firstId, row: 1, predicted: 'virginica', actual: 'versicolor' }),
      expect.objectContaining({
        prediction_id: secondId,
        row: 0,
        input: { features: [5.9, 2.9, 4.3, 1.3] },
        predicted: 'versicolor',
        actual: null,
        feedback_at: null,
      }),
    ]);
    // Just the latter, by time; by version number and alias.
    const since = encodeURIComponent(rows[2].created_at);
    expect(lines(await body(call('GET', `/v1/models/${name}/predictions/export?from=${since}`)))).toHaveLength(1);
    expect(lines(await body(call('GET', `/v1/models/${name}/predictions/export?version=1`)))).toHaveLength(3);
    expect(lines(await body(call('GET', `/v1/models/${name}/predictions/export?version=2`)))).toEqual([]);
    expect(lines(await body(call('GET', `/v1/models/${name}/predictions/export?version=latest`)))).toHaveLength(3);
  });

  it('answers CSV with one column per feature, for format=csv or Accept: text/csv', async () => {
    const name = await iris();
    const res = await call('POST', `/v2/models/${name}/infer`, {
      body: {
        inputs: [
          {
            name: 'features',
            datatype: 'FP32',
            shape: [2, 4],
            data: [
              [5.0, 3.4, 1.5, 0.2],
              [5.9, 2.9, 4.3, 1.3],
            ],
          },
        ],
      },
    });
    const id = res.headers.get('x-prediction-id')!;
    await waitForLogged(id);
    await callJson('POST', `/v1/predictions/${id}/feedback`, 201, {
      body: { actual: ['setosa', 'a "quoted", label'] },
    });
    for (const request of [
      call('GET', `/v1/models/${name}/predictions/export?format=csv`),
      call('GET', `/v1/models/${name}/predictions/export`, { headers: { accept: 'text/csv' } }),
    ]) {
      const csv = await request;
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).toMatch(/\.csv"$/);
      const [header, ...rest] = (await body(csv)).trimEnd().split('\n');
      expect(header).toBe(`prediction_id,row,created_at,version,request_id,${FEATURES.join(',')},predicted,actual`);
      expect(rest).toHaveLength(2);
      expect(rest[0]).toMatch(new RegExp(`^${id},0,[^,]+,1,req_[0-9a-f]+,5,3\\.4\\d*,1\\.5,0\\.2\\d*,setosa,setosa$`));
      expect(rest[1]).toMatch(/,versicolor,"a ""quoted"", label"$/);
    }
    // No rows: just the header.
    const empty = await call('GET', `/v1/models/${name}/predictions/export?format=csv&to=2020-01-02&from=2020-01-01`);
    expect(await body(empty)).toBe('prediction_id,row,created_at,version,request_id,predicted,actual\n');
  });

  it('reads page after page: every logged row once, oldest first', async () => {
    const name = await iris();
    const n = EXPORT_PAGE * 2 + 7;
    const base = Date.now() - 3_600_000;
    // Several logs share a millisecond: the page boundary must split them correctly.
    await insertLogs(
      'ws_default',
      name,
      Array.from({ length: n }, (_, i) => ({
        id: `prd_page_${String(i).padStart(4, '0')}`,
        at: base + Math.floor(i / 3),
        inputs: JSON.stringify({ instances: [[i, 0, 0, 0]] }),
      })),
    );
    const rows = lines(await body(call('GET', `/v1/models/${name}/predictions/export`)));
    expect(rows.map((r) => r.prediction_id)).toEqual(
      Array.from({ length: n }, (_, i) => `prd_page_${String(i).padStart(4, '0')}`),
    );
    expect(rows[5].input).toEqual([5, 0, 0, 0]);
  });

  it('stops reading when the client goes away', async () => {
    const name = await iris();
    await insertLogs(
      'ws_default',
      name,
      Array.from({ length: EXPORT_PAGE * 3 }, (_, i) => ({
        id: `prd_gone_${i}`,
        at: Date.now() - 1000 + i,
        inputs: '{"instances":[[1,2,3,4]]}',
      })),
    );
    let queries = 0;
    const db = database(env.DB);
    const counting = new Proxy(db, {
      get(target, key, receiver) {
        if (key === 'select') queries += 1;
        return Reflect.get(target, key, receiver);
      },
    });
    const stream = exportStream(counting, {
      workspaceId: 'ws_default',
      model: name,
      from: 0,
      to: Date.now() + 1000,
      format: 'jsonl',
      featureNames: null,
    });
    const reader = stream.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).split('\n').length).toBe(EXPORT_PAGE + 1);
    await reader.cancel();
    // One page: its logs and their feedback. Nothing more was read after the cancel.
    expect(queries).toBe(2);
  });

  it('refuses bad ranges and formats naming the parameter, and keeps other workspaces out', async () => {
    const owner = await registerUser('export-owner');
    const name = await iris(owner.token);
    const as = { token: owner.token };
    const path = `/v1/models/${name}/predictions/export`;
    expect((await callJson('GET', `${path}?from=2026-11-27&to=2026-11-26`, 400, as)).error.message).toMatch(
      /'to' must come after 'from'/,
    );
    expect((await callJson('GET', `${path}?from=yesterday`, 400, as)).error.message).toMatch(
      /from.*expected a date \(2026-11-26\) or an ISO 8601 date-time/,
    );
    expect((await callJson('GET', `${path}?format=xml`, 400, as)).error.message).toMatch(/format/);
    expect((await callJson('GET', `${path}?version=canary`, 404, as)).error.code).toMatch(/not_found/);
    const stranger = await registerUser('export-stranger');
    expect((await callJson('GET', path, 404, { token: stranger.token })).error.code).toBe('model_not_found');
    const predictOnly = await createKey(['predict'], as);
    expect((await callJson('GET', path, 403, { token: predictOnly.key })).error.code).toBe('permission_denied');
    const reader = await createKey(['models:read'], as);
    expect((await call('GET', path, { token: reader.key })).status).toBe(200);
  });
});

describe('daily export to R2', () => {
  const DAY = 86_400_000;

  it('writes each whole day of every model once, under exports/<workspace>/predictions/<model>/<day>.jsonl', async () => {
    const now = Date.UTC(2031, 0, 10, 3, 0);
    const yesterday = Date.UTC(2031, 0, 9, 12, 0);
    const a = uniqueName('daily-a');
    const b = uniqueName('daily-b');
    await insertLogs('ws_default', a, [
      { id: `prd_${a}_1`, at: yesterday, inputs: '{"instances":[[1,2,3,4]]}' },
      { id: `prd_${a}_2`, at: yesterday + 1, inputs: '{"instances":[[5,6,7,8]]}' },
      // Today's: not a whole day yet.
      { id: `prd_${a}_3`, at: now - 1000, inputs: '{"instances":[[0,0,0,0]]}' },
    ]);
    await insertLogs('ws_other', b, [{ id: `prd_${b}_1`, at: yesterday - DAY, inputs: '{"instances":[[1,1,1,1]]}' }]);
    await env.DB.prepare(
      `insert into prediction_feedback (prediction_id, row, workspace_id, model, version, actual, predicted, predicted_at, created_at)
       values (?, 0, 'ws_default', ?, 1, '"virginica"', '"setosa"', ?, ?)`,
    )
      .bind(`prd_${a}_2`, a, yesterday + 1, yesterday + 5)
      .run();

    const deps = depsFor();
    const off = await exportDailyPredictions(deps, now);
    expect(off).toEqual({ files: 0, rows: 0 });
    const on = { ...deps, config: configFrom({ ...env, PREDICTION_EXPORT_DAILY: 'true' } as never) };
    const written = await exportDailyPredictions(on, now);
    expect(written).toEqual({ files: 2, rows: 3 });

    const key = predictionExportKey('ws_default', a, '2031-01-09');
    expect(key).toBe(`exports/ws_default/predictions/${a}/2031-01-09.jsonl`);
    const object = await env.BUCKET.get(key);
    expect(object!.httpMetadata?.contentType).toBe('application/x-ndjson');
    const rows = lines(await object!.text());
    expect(rows.map((r) => [r.prediction_id, r.input, r.predicted, r.actual])).toEqual([
      [`prd_${a}_1`, [1, 2, 3, 4], 'setosa', null],
      [`prd_${a}_2`, [5, 6, 7, 8], 'setosa', 'virginica'],
    ]);
    expect(await env.BUCKET.head(predictionExportKey('ws_other', b, '2031-01-08'))).not.toBeNull();
    expect(await env.BUCKET.head(predictionExportKey('ws_default', a, '2031-01-10'))).toBeNull();

    // Done days are not looked at again; a file already there is not written twice.
    expect(await exportDailyPredictions(on, now)).toEqual({ files: 0, rows: 0 });
    await env.DB.prepare("delete from prediction_export_days where day = '2031-01-09'").run();
    expect(await exportDailyPredictions(on, now)).toEqual({ files: 0, rows: 0 });
    expect(
      (await env.DB.prepare("select files, rows from prediction_export_days where day = '2031-01-09'").first())!,
    ).toEqual({ files: 1, rows: 0 });
  });

  it('writes a day larger than one part as a multipart upload', { timeout: 60_000 }, async () => {
    const now = Date.UTC(2032, 5, 2, 1, 0);
    const day = Date.UTC(2032, 5, 1, 8, 0);
    const name = uniqueName('daily-big');
    // 40 logs of ~250 KB of input each: about 10 MB of JSON Lines, more than one part.
    const big = JSON.stringify({ instances: [Array.from({ length: 25_000 }, (_, i) => i / 7)] });
    await insertLogs(
      'ws_default',
      name,
      Array.from({ length: 40 }, (_, i) => ({ id: `prd_big_${String(i).padStart(2, '0')}`, at: day + i, inputs: big })),
    );
    const on = { ...depsFor(), config: configFrom({ ...env, PREDICTION_EXPORT_DAILY: 'true' } as never) };
    expect(await exportDailyPredictions(on, now)).toEqual({ files: 1, rows: 40 });
    const object = await env.BUCKET.get(predictionExportKey('ws_default', name, '2032-06-01'));
    expect(object!.size).toBeGreaterThan(PART_BYTES);
    const rows = lines(await object!.text());
    expect(rows.map((r) => r.prediction_id)).toEqual(
      Array.from({ length: 40 }, (_, i) => `prd_big_${String(i).padStart(2, '0')}`),
    );
    expect(rows[39].input).toHaveLength(25_000);
  });
});
