import { describe, expect, it } from 'vitest';
import {
  call,
  fixture,
  fixtureJson,
  infer,
  uniqueName,
  uploadRaw,
  type FixtureCase,
  type FixtureIndexEntry,
  type FixtureTensor,
} from '../helpers';

/*
 * Every case of the shared fixture corpus goes through upload and V2 infer. Cases onnxruntime-web
 * can run must match their expected outputs within tolerance; the others must get a clear 4xx.
 */

const index = fixtureJson<{ cases: FixtureIndexEntry[] }>('index.json').cases;
const FLOATS = new Set(['FP16', 'FP32', 'FP64']);
const toNumber = (v: unknown) => (typeof v === 'string' ? Number(v) : (v as number));

function expectClose(actual: FixtureTensor, expected: FixtureTensor, tolerance: FixtureCase['tolerance']) {
  expect(actual.datatype).toBe(expected.datatype);
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.data).toHaveLength(expected.data.length);
  if (!FLOATS.has(expected.datatype)) {
    expect(actual.data).toEqual(expected.data);
    return;
  }
  expected.data.forEach((e, i) => {
    const want = toNumber(e);
    const got = toNumber(actual.data[i]);
    if (Number.isNaN(want)) expect(Number.isNaN(got), `${expected.name}[${i}]`).toBe(true);
    else if (!Number.isFinite(want)) expect(got, `${expected.name}[${i}]`).toBe(want);
    else
      expect(Math.abs(got - want), `${expected.name}[${i}]: ${got} vs ${want}`).toBeLessThanOrEqual(
        tolerance.atol + tolerance.rtol * Math.abs(want),
      );
  });
}

describe('fixture conformance', () => {
  it('covers the whole corpus', () => {
    expect(index.length).toBe(50);
    expect(index.filter((c) => c.status === 'pass').length).toBe(44);
  });

  for (const entry of index.filter((c) => c.status === 'pass')) {
    it(`${entry.name} matches its expected outputs`, async () => {
      const testCase = fixtureJson<FixtureCase>(entry.case);
      const name = uniqueName('conf');
      expect((await uploadRaw(name, fixture(entry.model))).status).toBe(201);
      const res = await infer(`/v2/models/${name}/infer`, {
        id: entry.name,
        inputs: testCase.inputs,
        outputs: testCase.outputs.map((o) => ({ name: o.name })),
      });
      const body = await res.json<any>();
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ model_name: name, model_version: '1', id: entry.name });
      expect(body.outputs.map((o: FixtureTensor) => o.name)).toEqual(testCase.outputs.map((o) => o.name));
      testCase.outputs.forEach((expected, i) => expectClose(body.outputs[i], expected, testCase.tolerance));
    });
  }

  it('refuses at upload the models onnxruntime-web cannot load or feed, with a 422 that says why', async () => {
    const expectations: Record<string, RegExp> = {
      'onnx-node.test_lstm_batchwise': /Batchwise recurrent operations \(layout == 1\) are not supported/,
      'ort.pipeline_vectorize': /input 'float_input' is a sequence or map, not a tensor/,
      'ort.zipmap_stringfloat': /none of its outputs is a tensor/,
    };
    for (const [caseName, message] of Object.entries(expectations)) {
      const entry = index.find((c) => c.name === caseName)!;
      const res = await uploadRaw(uniqueName('unsup'), fixture(entry.model));
      expect(res.status, caseName).toBe(422);
      expect((await res.json<any>()).error.message).toMatch(message);
    }
  });

  it('serves the tensor outputs of a ZipMap classifier and refuses the map output with 400', async () => {
    const entry = index.find((c) => c.name === 'ort.logreg_iris')!;
    const testCase = fixtureJson<FixtureCase>(entry.case);
    const name = uniqueName('zipmap');
    expect((await uploadRaw(name, fixture(entry.model))).status).toBe(201);
    const ok = await infer(`/v2/models/${name}/infer`, { inputs: testCase.inputs });
    const body = await ok.json<any>();
    expect(body.outputs.map((o: FixtureTensor) => o.name)).toEqual(['label']);
    expectClose(body.outputs[0], testCase.outputs[0]!, testCase.tolerance);
    const refused = await infer(`/v2/models/${name}/infer`, {
      inputs: testCase.inputs,
      outputs: [{ name: 'probabilities' }],
    });
    expect(refused.status).toBe(400);
    expect((await refused.json<any>()).error).toMatch(/output 'probabilities' cannot be returned: .*sequence or map/);
  });

  it('refuses BYTES elements with NUL characters (onnxruntime-web would cut them) with 400', async () => {
    const entry = index.find((c) => c.name === 'ort.mlnet_encoder')!;
    const testCase = fixtureJson<FixtureCase>(entry.case);
    const name = uniqueName('nul');
    expect((await uploadRaw(name, fixture(entry.model))).status).toBe(201);
    const res = await infer(`/v2/models/${name}/infer`, { inputs: testCase.inputs });
    expect(res.status).toBe(400);
    expect((await res.json<any>()).error).toMatch(/input 'C1': element 0 .* without NUL/);
  });

  it('registers the model-only case and describes its signature', async () => {
    const entry = index.find((c) => c.status === 'model_only')!;
    const name = uniqueName('mnist');
    expect((await uploadRaw(name, fixture(entry.model))).status).toBe(201);
    const meta = await (await call('GET', `/v2/models/${name}`)).json<any>();
    expect(meta).toMatchObject({ name, platform: 'onnxruntime_onnx', versions: ['1'] });
    expect(meta.inputs[0]).toMatchObject({ datatype: 'FP32' });
  });
});
