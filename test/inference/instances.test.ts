import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson, fixture, newModel } from '../helpers';

const predict = (path: string, instances: unknown, headers?: Record<string, string>) =>
  call('POST', path, { body: { instances }, headers });

async function refused(path: string, instances: unknown): Promise<string> {
  const res = await predict(path, instances);
  const body = await res.json<any>();
  expect(res.status, JSON.stringify(body)).toBe(400);
  return body.error.message;
}

describe('instances API', () => {
  let iris: string;
  beforeAll(async () => {
    iris = `iris-${crypto.randomUUID().slice(0, 8)}`;
    await callJson('POST', '/v1/models', 201, {
      body: {
        name: iris,
        task: 'classification',
        feature_names: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
        class_labels: ['setosa', 'versicolor', 'virginica'],
      },
    });
    const res = await call('POST', `/v1/models/${iris}/versions`, {
      body: fixture('generated/iris.onnx'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
  });

  it('maps records keyed by feature name and answers label and class probabilities', async () => {
    const res = await predict(`/v1/models/${iris}/predict`, [
      { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
      { petal_width: 2.3, petal_length: 5.2, sepal_width: 3.0, sepal_length: 6.7 },
    ]);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toMatch(/MISS|HIT/);
    const body = await res.json<any>();
    expect(body).toMatchObject({ model: iris, model_version: 1 });
    expect(body.predictions.map((p: any) => p.label)).toEqual(['setosa', 'virginica']);
    const probs = body.predictions[0].probabilities;
    expect(Object.keys(probs)).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(probs.setosa).toBeGreaterThan(0.9);
  });

  it('accepts arrays in signature order and agrees with the V2 route', async () => {
    const rows = [
      [5.9, 3.0, 4.2, 1.5],
      [6.3, 3.3, 6.0, 2.5],
    ];
    const viaInstances = await (await predict(`/v1/models/${iris}/versions/1/predict`, rows)).json<any>();
    const v2 = await (
      await call('POST', `/v2/models/${iris}/infer`, {
        body: { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: rows }] },
      })
    ).json<any>();
    expect(viaInstances.predictions.map((p: any) => p.label)).toEqual(
      (v2.outputs[0].data as number[]).map((i) => ['setosa', 'versicolor', 'virginica'][i]),
    );
    expect(viaInstances.predictions[1].probabilities.virginica).toBeCloseTo(v2.outputs[1].data[5], 6);
  });

  it('names the missing or unknown feature and the wrong length', async () => {
    expect(
      await refused(`/v1/models/${iris}/predict`, [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4 }]),
    ).toBe("instance 0 lacks feature 'petal_width'");
    expect(
      await refused(`/v1/models/${iris}/predict`, [
        { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2, colour: 'blue' },
      ]),
    ).toMatch(/instance 0 has unknown feature 'colour'; the model's features are sepal_length/);
    expect(await refused(`/v1/models/${iris}/predict`, [[1, 2, 3]])).toMatch(
      /instance 0, input 'features': has 3 values but the model expects 4/,
    );
    expect(await refused(`/v1/models/${iris}/predict`, [[1, 2, 'x', 4]])).toMatch(
      /element 2 is "x"; FP32 expects a number/,
    );
    expect(await refused(`/v1/models/${iris}/predict`, [])).toMatch(/'instances'/);
  });

  it('reads a feature only from the record itself, never from what every object inherits', async () => {
    const name = `proto-${crypto.randomUUID().slice(0, 8)}`;
    await callJson('POST', '/v1/models', 201, {
      body: {
        name,
        task: 'classification',
        feature_names: ['constructor', 'toString', 'valueOf', 'hasOwnProperty'],
        class_labels: ['setosa', 'versicolor', 'virginica'],
      },
    });
    const res = await call('POST', `/v1/models/${name}/versions`, {
      body: fixture('generated/iris.onnx'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
    expect(await refused(`/v1/models/${name}/predict`, [{ toString: 3.5, valueOf: 1.4, hasOwnProperty: 0.2 }])).toBe(
      "instance 0 lacks feature 'constructor'",
    );
    const ok = await predict(`/v1/models/${name}/predict`, [
      { constructor: 5.1, toString: 3.5, valueOf: 1.4, hasOwnProperty: 0.2 },
    ]);
    expect(ok.status).toBe(200);
    const direct = await (await predict(`/v1/models/${iris}/predict`, [[5.1, 3.5, 1.4, 0.2]])).json<any>();
    expect((await ok.json<any>()).predictions[0].label).toBe(direct.predictions[0].label);
  });

  it('answers a regressor with one number per instance', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'reg');
    const body = await (
      await predict(`/v1/models/${name}/predict`, [
        [1, 1],
        [2, 0],
      ])
    ).json<any>();
    expect(body.predictions).toEqual([1.5, 4.5]);
  });

  it('maps several inputs by name or position and answers an object per instance', async () => {
    const name = await newModel(fixture('generated/multi.onnx'), 'multi');
    const byName = await (
      await predict(`/v1/models/${name}/predict`, [
        { a: [1, 2, 3], b: 4 },
        { a: [0, 0, 1], b: '-5' },
      ])
    ).json<any>();
    expect(byName.predictions).toEqual([
      { sum: 6, scaled: [2, 4, 6], b_neg: -4 },
      { sum: 1, scaled: [0, 0, 2], b_neg: 5 },
    ]);
    const byPosition = await (await predict(`/v1/models/${name}/predict`, [[[1, 2, 3], 4]])).json<any>();
    expect(byPosition.predictions[0]).toEqual(byName.predictions[0]);
    expect(await refused(`/v1/models/${name}/predict`, [{ a: [1, 2, 3] }])).toBe("instance 0 lacks input 'b'");
    expect(await refused(`/v1/models/${name}/predict`, [[[1, 2, 3]]])).toMatch(
      /instance 0 has 1 values but the model has 2 inputs/,
    );
  });

  it('runs a model whose batch is fixed at 1 row by row, and explains an object for a model without feature names', async () => {
    const fixed = await newModel(fixture('generated/fixedbatch.onnx'), 'fixed');
    expect((await (await predict(`/v1/models/${fixed}/predict`, [[-1, 2]])).json<any>()).predictions).toEqual([[0, 2]]);
    // One request of 500 records answers 500 predictions.
    const rows = Array.from({ length: 500 }, (_, i) => [i - 250, (i % 7) - 3]);
    const many = await predict(`/v1/models/${fixed}/predict`, rows);
    expect(many.status).toBe(200);
    expect((await many.json<any>()).predictions).toEqual(rows.map((r) => r.map((v) => Math.max(0, v))));
    // The Open Inference Protocol keeps the model's real shape: its callers send one row.
    const meta = await (await call('GET', `/v2/models/${fixed}`)).json<any>();
    expect(meta.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [1, 2] }]);
    const v2 = await call('POST', `/v2/models/${fixed}/infer`, {
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }] },
    });
    expect(v2.status).toBe(400);
    expect((await v2.json<any>()).error).toMatch(/input 'x' has 2 in dimension 0 but the model expects 1/);
    expect(await refused(`/v1/models/${fixed}/predict`, [{ a: 1, b: 2 }])).toMatch(/the model has no feature names/);
  });
});
