import { describe, expect, it } from 'vitest';
import { call, callJson, fixture, infer, newModel, uniqueName, uploadRaw, waitForLogged } from '../helpers';

const LABELS = ['setosa', 'versicolor', 'virginica'];
// Rows the demo classifier gets right with certainty: one of each species.
const ROWS = { setosa: [5.0, 3.4, 1.5, 0.2], versicolor: [5.9, 2.9, 4.3, 1.3], virginica: [6.8, 3.1, 5.8, 2.3] };

async function classifier(sampleRate: number): Promise<string> {
  const name = uniqueName('clf');
  await callJson('POST', '/v1/models', 201, {
    body: {
      name,
      task: 'classification',
      feature_names: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
      class_labels: LABELS,
      monitoring: { log_sample_rate: sampleRate },
    },
  });
  expect((await uploadRaw(name, fixture('generated/iris.onnx'))).status).toBe(201);
  return name;
}

async function predictOne(name: string, row: number[]): Promise<string> {
  const res = await call('POST', `/v1/models/${name}/predict`, {
    body: { instances: [row] },
    headers: { 'cache-control': 'no-store' },
  });
  expect(res.status).toBe(200);
  const id = res.headers.get('x-prediction-id')!;
  expect(id).toMatch(/^prd_/);
  await waitForLogged(id);
  return id;
}

describe('prediction logging', () => {
  it('logs sampled predictions with inputs, outputs and what each row predicted', async () => {
    const name = await classifier(1);
    const res = await infer(`/v2/models/${name}/infer`, {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: [ROWS.setosa, ROWS.virginica] }],
    });
    const id = res.headers.get('x-prediction-id')!;
    const prediction = await waitForLogged(id);
    expect(prediction).toMatchObject({
      id,
      model: name,
      version: 1,
      rows: 2,
      cache: 'MISS',
      predicted: ['setosa', 'virginica'],
      inputs: { inputs: [{ name: 'features', shape: [2, 4] }] },
    });
    expect(prediction.request_id).toBe(res.headers.get('x-request-id'));
    expect(prediction.outputs.map((o: any) => o.name)).toEqual(['label', 'probabilities']);
    const list = await callJson('GET', `/v1/models/${name}/predictions?limit=10`, 200);
    expect(list.predictions.map((p: any) => p.id)).toEqual([id]);
  });

  it('logs a binary tensor data request with its inputs as the JSON data they decoded to', async () => {
    const name = await classifier(1);
    const header = JSON.stringify({
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }],
    });
    const floats = new Uint8Array(Float32Array.from(ROWS.virginica).buffer);
    const body = new Uint8Array([...new TextEncoder().encode(header), ...floats]);
    const res = await call('POST', `/v2/models/${name}/infer`, {
      body,
      headers: { 'Inference-Header-Content-Length': String(header.length), 'cache-control': 'no-store' },
    });
    expect(res.status).toBe(200);
    const prediction = await waitForLogged(res.headers.get('x-prediction-id')!);
    expect(prediction.predicted).toEqual(['virginica']);
    expect(prediction.inputs.inputs).toEqual([
      {
        name: 'features',
        datatype: 'FP32',
        shape: [1, 4],
        parameters: { binary_data_size: 16 },
        data: ROWS.virginica.map(Math.fround),
      },
    ]);
  });

  // 200 predictions one after another: more than the default 5 s on a busy machine.
  it(
    'does not log (or answer an id) when the sample rate is 0, and logs about the rate set',
    { timeout: 60_000 },
    async () => {
      const off = await classifier(0);
      const res = await call('POST', `/v1/models/${off}/predict`, { body: { instances: [ROWS.setosa] } });
      expect(res.headers.get('x-prediction-id')).toBeNull();
      expect((await callJson('GET', `/v1/models/${off}/predictions`, 200)).predictions).toEqual([]);
      await callJson('PATCH', `/v1/models/${off}`, 200, { body: { monitoring: { log_sample_rate: 0.5 } } });
      let ids = 0;
      for (let i = 0; i < 200; i++) {
        const r = await call('POST', `/v1/models/${off}/predict`, { body: { instances: [[5, 3, 1.4, i / 1000]] } });
        if (r.headers.get('x-prediction-id')) ids += 1;
      }
      // Binomial(200, 0.5): outside 60..140 has probability below 1e-8.
      expect(ids).toBeGreaterThan(60);
      expect(ids).toBeLessThan(140);
    },
  );

  it('refuses bad feedback: unknown prediction, wrong row count, twice', async () => {
    const name = await classifier(1);
    const id = await predictOne(name, ROWS.setosa);
    expect(
      (await callJson('POST', '/v1/predictions/prd_nope/feedback', 404, { body: { actual: 'setosa' } })).error.code,
    ).toBe('prediction_not_found');
    expect(
      (await callJson('POST', `/v1/predictions/${id}/feedback`, 400, { body: { actual: ['setosa', 'virginica'] } }))
        .error.message,
    ).toMatch(/has 1 row; send one true value per row/);
    expect(await callJson('POST', `/v1/predictions/${id}/feedback`, 201, { body: { actual: 'setosa' } })).toEqual({
      prediction_id: id,
      rows: 1,
    });
    expect(
      (await callJson('POST', `/v1/predictions/${id}/feedback`, 409, { body: { actual: 'setosa' } })).error.code,
    ).toBe('feedback_exists');
    expect((await callJson('POST', `/v1/predictions/${id}/feedback`, 400, { body: {} })).error.message).toMatch(
      /actual/,
    );
  });
});

describe('performance from feedback', () => {
  it('classifier metrics equal hand-computed values', async () => {
    const name = await classifier(1);
    // predicted → actual, for 8 predictions:
    const cases: [keyof typeof ROWS, string][] = [
      ['setosa', 'setosa'],
      ['setosa', 'setosa'],
      ['setosa', 'versicolor'],
      ['versicolor', 'versicolor'],
      ['versicolor', 'virginica'],
      ['virginica', 'virginica'],
      ['virginica', 'virginica'],
      ['virginica', 'setosa'],
    ];
    for (const [predicted, actual] of cases) {
      const id = await predictOne(name, ROWS[predicted]);
      await callJson('POST', `/v1/predictions/${id}/feedback`, 201, { body: { actual } });
    }
    const perf = await callJson('GET', `/v1/models/${name}/performance?window=1d`, 200);
    expect(perf).toMatchObject({ model: name, kind: 'classification', step: 'hour', count: 8 });
    // accuracy 5/8. setosa: P 2/3 R 2/3; versicolor: P 1/2 R 1/2; virginica: P 2/3 R 2/3.
    const m = perf.metrics;
    expect(m.accuracy).toBeCloseTo(5 / 8, 10);
    expect(m.per_class.setosa).toMatchObject({ precision: 2 / 3, recall: 2 / 3, support: 3 });
    expect(m.per_class.versicolor).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(m.per_class.virginica.f1).toBeCloseTo(2 / 3, 10);
    expect(m.precision).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 10);
    expect(m.recall).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 10);
    expect(m.f1).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 10);
    // The eight may straddle an hour boundary: the hourly buckets add up to them.
    const series = perf.series as { count: number; value: number }[];
    expect(series.reduce((n, b) => n + b.count, 0)).toBe(8);
    expect(series.reduce((n, b) => n + b.value * b.count, 0)).toBeCloseTo(5, 10);
  });

  it('regressor MAE and RMSE equal hand-computed values; class indices map to labels', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'reg');
    await callJson('PATCH', `/v1/models/${name}`, 200, {
      body: { task: 'regression', monitoring: { log_sample_rate: 1 } },
    });
    // y = 2·x1 − x2 + 0.5: predictions 1.5, 4.5, -0.5; actuals 1, 5, 1 → errors 0.5, -0.5, -1.5
    const res = await call('POST', `/v1/models/${name}/predict`, {
      body: {
        instances: [
          [1, 1],
          [2, 0],
          [0, 1],
        ],
      },
    });
    const id = res.headers.get('x-prediction-id')!;
    expect((await waitForLogged(id)).predicted).toEqual([1.5, 4.5, -0.5]);
    await callJson('POST', `/v1/predictions/${id}/feedback`, 201, { body: { actual: [1, 5, 1] } });
    const perf = await callJson('GET', `/v1/models/${name}/performance`, 200);
    expect(perf).toMatchObject({ kind: 'regression', count: 3 });
    expect(perf.metrics.mae).toBeCloseTo((0.5 + 0.5 + 1.5) / 3, 10);
    expect(perf.metrics.rmse).toBeCloseTo(Math.sqrt((0.25 + 0.25 + 2.25) / 3), 10);

    const clf = await classifier(1);
    const idx = await predictOne(clf, ROWS.virginica);
    await callJson('POST', `/v1/predictions/${idx}/feedback`, 201, { body: { actual: 2 } });
    expect((await callJson('GET', `/v1/models/${clf}/performance`, 200)).metrics.accuracy).toBe(1);
  });
});
