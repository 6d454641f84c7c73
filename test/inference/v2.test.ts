import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson, fixture, infer, newModel, uploadRaw } from '../helpers';

const IRIS = fixture('generated/iris.onnx');
const setosa = [5.1, 3.5, 1.4, 0.2];
const irisInput = (data: unknown = setosa, shape = [1, 4]) => ({
  inputs: [{ name: 'features', datatype: 'FP32', shape, data }],
});

async function error(path: string, body: unknown, status = 400): Promise<string> {
  const res = await infer(path, body);
  const json = await res.json<any>();
  expect(res.status, JSON.stringify(json)).toBe(status);
  expect(Object.keys(json)).toEqual(['error']);
  return json.error;
}

describe('server and model metadata', () => {
  let name: string;
  beforeAll(async () => {
    name = await newModel(IRIS, 'meta');
  });

  it('GET /v2 describes the server without a credential', async () => {
    expect(await callJson('GET', '/v2', 200, { token: null })).toEqual({
      name: 'modelflare',
      version: '0.1.0',
      extensions: ['binary_tensor_data', 'classification'],
    });
  });

  it('GET /v2/models/{m} gives platform, versions, inputs and outputs with -1 for dynamic dims', async () => {
    expect(await callJson('GET', `/v2/models/${name}`, 200)).toEqual({
      name,
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
      parameters: { backend: 'isolate' },
    });
  });

  it('ready loads the model; unknown models answer 404 in the V2 error form', async () => {
    expect(await callJson('GET', `/v2/models/${name}/ready`, 200)).toEqual({ name, ready: true });
    expect(await callJson('GET', `/v2/models/${name}/versions/1/ready`, 200)).toEqual({ name, ready: true });
    const missing = await callJson('GET', '/v2/models/no-such-model/ready', 404);
    expect(missing).toEqual({ error: "model 'no-such-model' not found" });
  });

  it('ready answers 503 when the model has no version to serve', async () => {
    const lonely = await newModel(fixture('models/onnx-node.test_add.onnx'), 'lonely');
    await callJson('DELETE', `/v1/models/${lonely}/versions/1`, 200);
    expect((await callJson('GET', `/v2/models/${lonely}/ready`, 503)).error).toContain('has no version ready to serve');
  });

  it('needs a credential for model routes', async () => {
    expect((await call('GET', `/v2/models/${name}`, { token: null })).status).toBe(401);
    expect((await call('POST', `/v2/models/${name}/infer`, { token: null, body: irisInput() })).status).toBe(401);
  });
});

describe('infer', () => {
  let name: string;
  beforeAll(async () => {
    name = await newModel(IRIS, 'infer');
  });

  it('answers the OIP response shape and echoes the id', async () => {
    const res = await infer(`/v2/models/${name}/infer`, { id: 'req-7', ...irisInput() });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ model_name: name, model_version: '1', id: 'req-7' });
    expect(body.outputs[0]).toEqual({ name: 'label', datatype: 'INT64', shape: [1], data: [0] });
    expect(body.outputs[1]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [1, 3] });
    const probs = body.outputs[1].data as number[];
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(probs[0]).toBeGreaterThan(0.9);
  });

  it('omits id when none was sent', async () => {
    const body = await (await infer(`/v2/models/${name}/infer`, irisInput())).json<any>();
    expect('id' in body).toBe(false);
  });

  it('accepts nested and flat data alike, batched', async () => {
    const rows = [setosa, [6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.3, 1.3]];
    const flat = await (await infer(`/v2/models/${name}/infer`, irisInput(rows.flat(), [3, 4]))).json<any>();
    const nested = await (await infer(`/v2/models/${name}/infer`, irisInput(rows, [3, 4]))).json<any>();
    expect(nested.outputs).toEqual(flat.outputs);
    expect(flat.outputs[0].data).toEqual([0, 2, 1]);
  });

  it('returns only the requested outputs, in the order asked', async () => {
    const body = await (
      await infer(`/v2/models/${name}/infer`, { ...irisInput(), outputs: [{ name: 'probabilities' }] })
    ).json<any>();
    expect(body.outputs.map((o: any) => o.name)).toEqual(['probabilities']);
  });

  it('sets Server-Timing with the stages of the request', async () => {
    const res = await infer(`/v2/models/${name}/infer`, irisInput([5, 3, 1, 0.1]), { 'cache-control': 'no-store' });
    const timing = res.headers.get('server-timing')!;
    for (const stage of ['registry', 'validate', 'infer'])
      expect(timing).toMatch(new RegExp(`${stage};dur=\\d+\\.\\d\\d`));
  });

  describe('validation names the input and what was expected', () => {
    const cases: [string, unknown, RegExp][] = [
      ['missing input', { inputs: [] }, /request body 'inputs'/],
      [
        'unknown input',
        { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: setosa }] },
        /unknown input 'x'; the model's inputs are features \(FP32 \[-1, 4\]\)/,
      ],
      [
        'wrong datatype',
        { inputs: [{ name: 'features', datatype: 'FP64', shape: [1, 4], data: setosa }] },
        /input 'features' has datatype FP64 but the model expects FP32/,
      ],
      [
        'unknown datatype',
        { inputs: [{ name: 'features', datatype: 'FLOAT', shape: [1, 4], data: setosa }] },
        /'inputs\[0\]\.datatype'/,
      ],
      [
        'wrong rank',
        irisInput(setosa, [4]),
        /input 'features' has shape \[4\] \(rank 1\) but the model expects rank 2: \[-1, 4\]/,
      ],
      [
        'wrong fixed dimension',
        irisInput([1, 2, 3], [1, 3]),
        /input 'features' has 3 in dimension 1 but the model expects 4/,
      ],
      [
        'element count',
        irisInput([1, 2, 3, 4, 5], [1, 4]),
        /input 'features' has 5 elements but its shape \[1, 4\] needs 4/,
      ],
      [
        'nested mismatch',
        irisInput(
          [
            [1, 2],
            [3, 4, 5, 6],
          ],
          [2, 4],
        ),
        /nested data does not match the shape \[2, 4\]: data\[0\] should be an array of 4/,
      ],
      [
        'wrong element type',
        irisInput([1, 'two', 3, 4]),
        /input 'features': element 1 is "two"; FP32 expects a number/,
      ],
      ['boolean for a float', irisInput([true, 2, 3, 4]), /element 0 is true; FP32 expects a number/],
      ['out of FP32 range', irisInput([1e39, 2, 3, 4]), /element 0 is 1e\+39; FP32 expects a finite number within/],
      ['negative dimension', irisInput(setosa, [-1, 4]), /request body 'inputs\[0\]\.shape\[0\]'/],
      ['data not an array', irisInput('1,2,3,4'), /data must be an array/],
      [
        'unknown output',
        { ...irisInput(), outputs: [{ name: 'logits' }] },
        /unknown output 'logits'; the model's outputs are label, probabilities/,
      ],
      [
        'duplicate input',
        { inputs: [irisInput().inputs[0], irisInput().inputs[0]] },
        /input 'features' is given more than once/,
      ],
    ];
    for (const [what, body, message] of cases) {
      it(what, async () => {
        expect(await error(`/v2/models/${name}/infer`, body)).toMatch(message);
      });
    }

    it('a missing required input is named with its signature', async () => {
      const multi = await newModel(fixture('generated/multi.onnx'), 'multi');
      const message = await error(`/v2/models/${multi}/infer`, {
        inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
      });
      expect(message).toBe('missing input b (INT64 [-1])');
    });

    it('malformed JSON and a body that is not an object', async () => {
      const res = await call('POST', `/v2/models/${name}/infer`, {
        body: '{"inputs": [',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect((await res.json<any>()).error).toMatch(/JSON/);
      expect(await error(`/v2/models/${name}/infer`, [1, 2])).toMatch(/request body/);
    });
  });
});

describe('version and alias resolution', () => {
  const v1 = fixture('generated/iris.onnx');
  // version 2 has another signature, so a response shows which version answered
  let name: string;
  beforeAll(async () => {
    name = await newModel(v1, 'res');
    const res = await uploadRaw(name, fixture('generated/regressor.onnx'));
    expect(res.status).toBe(201);
  });

  it('without a version: latest when there is no production alias, production when there is', async () => {
    expect((await callJson('GET', `/v2/models/${name}`, 200)).inputs[0].name).toBe('x');
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 1 } });
    expect((await callJson('GET', `/v2/models/${name}`, 200)).inputs[0].name).toBe('features');
    const res = await infer(`/v2/models/${name}/infer`, irisInput());
    expect((await res.json<any>()).model_version).toBe('1');
    await callJson('DELETE', `/v1/models/${name}/aliases/production`, 200);
    expect((await callJson('GET', `/v2/models/${name}`, 200)).inputs[0].name).toBe('x');
  });

  it('by number, by alias, and latest; the alias move is seen at once in this isolate', async () => {
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 1] }] };
    const v2 = await (await infer(`/v2/models/${name}/versions/2/infer`, body)).json<any>();
    expect(v2).toMatchObject({ model_version: '2', outputs: [{ name: 'y', shape: [1, 1], data: [1.5] }] });
    expect((await (await infer(`/v2/models/${name}/versions/latest/infer`, body)).json<any>()).model_version).toBe('2');
    await callJson('PUT', `/v1/models/${name}/aliases/canary`, 200, { body: { version: 1 } });
    expect(
      (await (await infer(`/v2/models/${name}/versions/canary/infer`, irisInput())).json<any>()).model_version,
    ).toBe('1');
    await callJson('PUT', `/v1/models/${name}/aliases/canary`, 200, { body: { version: 2 } });
    expect((await (await infer(`/v2/models/${name}/versions/canary/infer`, body)).json<any>()).model_version).toBe('2');
  });

  it('404 for unknown versions, aliases, archived versions and archived models', async () => {
    expect(await error(`/v2/models/${name}/versions/9/infer`, irisInput(), 404)).toBe(
      `model '${name}' has no version 9`,
    );
    expect(await error(`/v2/models/${name}/versions/nope/infer`, irisInput(), 404)).toBe(
      `model '${name}' has no alias 'nope'`,
    );
    const other = await newModel(v1, 'arch');
    await uploadRaw(other, fixture('generated/regressor.onnx'));
    await callJson('DELETE', `/v1/models/${other}/versions/1`, 200);
    expect(await error(`/v2/models/${other}/versions/1/infer`, irisInput(), 404)).toBe(
      `version 1 of model '${other}' is archived`,
    );
    await callJson('DELETE', `/v1/models/${other}`, 200);
    expect(await error(`/v2/models/${other}/infer`, irisInput(), 404)).toBe(`model '${other}' is archived`);
    expect(await error(`/v2/models/Bad_Name/infer`, irisInput(), 400)).toMatch(/invalid model name/);
  });
});
