import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../workers/runtime/import/onnx-graph';
import {
  call,
  callJson,
  fixture,
  fixtureJson,
  infer,
  seeded,
  uniqueName,
  uploadRaw,
  type FixtureCase,
  type FixtureIndexEntry,
  type FixtureTensor,
} from '../helpers';

/*
 * Every case of the shared fixture corpus goes through upload and V2 infer. Cases onnxruntime-web
 * can run must match their expected outputs within tolerance; the ones it cannot run as they are
 * (ZipMap, a map input, a batchwise LSTM) must after the import's rewrites; a case it still
 * cannot serve must get a clear 4xx.
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

  it("keeps every passing model's meaning through the protobuf codec of the import (decoded, written again)", async () => {
    for (const entry of index.filter((c) => c.status === 'pass')) {
      const testCase = fixtureJson<FixtureCase>(entry.case);
      const name = uniqueName('codec');
      const written = encodeModel(decodeModel(fixture(entry.model)));
      expect((await uploadRaw(name, written)).status, entry.name).toBe(201);
      const res = await infer(`/v2/models/${name}/infer`, {
        inputs: testCase.inputs,
        outputs: testCase.outputs.map((o) => ({ name: o.name })),
      });
      const body = await res.json<any>();
      expect(res.status, `${entry.name}: ${JSON.stringify(body)}`).toBe(200);
      testCase.outputs.forEach((expected, i) => expectClose(body.outputs[i], expected, testCase.tolerance));
    }
  }, 120_000);

  /** Uploads a case's model; the answer describes the version, with what the import rewrote. */
  async function uploaded(caseName: string) {
    const entry = index.find((c) => c.name === caseName)!;
    const name = uniqueName('import');
    const res = await uploadRaw(name, fixture(entry.model));
    const version = await res.json<any>();
    expect(res.status, JSON.stringify(version)).toBe(201);
    return {
      name,
      version,
      testCase: fixtureJson<FixtureCase & { outputs_nontensor?: any[]; inputs_nontensor?: any[] }>(entry.case),
    };
  }

  /** A sequence of maps as the tensor [rows, classes] the platform serves, columns in class-label order. */
  const asTensor = (maps: Record<string, number>[], labels: string[]): number[] =>
    maps.flatMap((row) => labels.map((label) => row[label]!));

  it('covers every case marked unsupported: the import rewrites each', () => {
    expect(index.filter((c) => c.status === 'unsupported').map((c) => c.name)).toEqual([
      'onnx-node.test_lstm_batchwise',
      'ort.logreg_iris',
      'ort.pipeline_vectorize',
      'ort.zipmap_stringfloat',
    ]);
  });

  it('serves the batchwise LSTM (layout = 1) sequence-first between Transposes, matching its expected outputs', async () => {
    const { name, version, testCase } = await uploaded('onnx-node.test_lstm_batchwise');
    expect(version.serving.rewrites).toEqual([{ kind: 'batchwise_rnn', node: expect.any(String), op: 'LSTM' }]);
    // The signature is the model's own: batch first.
    expect(version.signature.inputs[0]).toEqual({ name: 'X', datatype: 'FP32', shape: [3, 1, 2] });
    const res = await infer(`/v2/models/${name}/infer`, { inputs: testCase.inputs });
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.outputs.map((o: FixtureTensor) => o.name)).toEqual(['Y', 'Y_h']);
    testCase.outputs.forEach((expected, i) => expectClose(body.outputs[i], expected, testCase.tolerance));
  });

  it('serves the ZipMap over string labels as an FP32 tensor in class-label order', async () => {
    const { name, version, testCase } = await uploaded('ort.zipmap_stringfloat');
    const labels: string[] = version.class_labels;
    expect(labels).toEqual(['class1', 'class2', 'class3']);
    expect(version.serving.rewrites).toEqual([
      { kind: 'zipmap', node: expect.any(String), output: 'Z', class_labels: labels },
    ]);
    expect(version.signature.outputs).toEqual([{ name: 'Z', datatype: 'FP32', shape: [-1, 3] }]);
    const res = await infer(`/v2/models/${name}/infer`, { inputs: testCase.inputs });
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(200);
    const maps = testCase.outputs_nontensor![0]!;
    expectClose(
      body.outputs[0],
      { name: 'Z', datatype: 'FP32', shape: [2, 3], data: asTensor(maps.data, labels) },
      maps.tolerance,
    );
  });

  it('serves the ZipMap classifier over int64 labels: label and probabilities, by V2 and by instances', async () => {
    const { name, version, testCase } = await uploaded('ort.logreg_iris');
    expect(version.class_labels).toEqual(['0', '1', '2']);
    expect(version.signature.unserved_outputs).toEqual([]);
    const res = await infer(`/v2/models/${name}/infer`, { inputs: testCase.inputs });
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.outputs.map((o: FixtureTensor) => o.name)).toEqual(['label', 'probabilities']);
    expectClose(body.outputs[0], testCase.outputs[0]!, testCase.tolerance);
    const maps = testCase.outputs_nontensor![0]!;
    const probabilities = asTensor(maps.data, version.class_labels);
    expectClose(
      body.outputs[1],
      { name: 'probabilities', datatype: 'FP32', shape: [3, 3], data: probabilities },
      maps.tolerance,
    );
    // The instances API answers as for a tensor classifier: the label, and each class's probability.
    const rows = [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    const predicted = await callJson('POST', `/v1/models/${name}/predict`, 200, { body: { instances: rows } });
    predicted.predictions.forEach((p: any, i: number) => {
      expect(p.label).toBe('0');
      expect(Object.keys(p.probabilities)).toEqual(['0', '1', '2']);
      ['0', '1', '2'].forEach((label, k) => {
        const want = maps.data[i][label];
        expect(Math.abs(p.probabilities[label] - want), `row ${i} class ${label}`).toBeLessThanOrEqual(
          maps.tolerance.atol + maps.tolerance.rtol * Math.abs(want),
        );
        expect(p.probabilities[label]).toBeCloseTo(probabilities[i * 3 + k]!, 6);
      });
    });
  });

  it('serves the DictVectorizer pipeline with a tensor input whose features are the vocabulary', async () => {
    const { name, version, testCase } = await uploaded('ort.pipeline_vectorize');
    const record: Record<string, number> = testCase.inputs_nontensor![0]!.data;
    const vocabulary: string[] = version.feature_names;
    // The record names 5 of the vocabulary's 12 keys: the others count as 0, as DictVectorizer does.
    expect(vocabulary).toHaveLength(12);
    expect(vocabulary).toEqual(expect.arrayContaining(Object.keys(record)));
    expect(version.serving.rewrites).toEqual([
      { kind: 'dict_vectorizer', node: expect.any(String), input: 'float_input', vocabulary },
    ]);
    expect(version.signature.inputs).toEqual([
      { name: 'float_input', datatype: 'FP32', shape: [-1, vocabulary.length] },
    ]);
    // The graph answered one map [1, 1]: it now answers a row per record.
    expect(version.signature.outputs).toEqual([{ name: 'variable1', datatype: 'FP32', shape: [-1, 1] }]);
    // The map itself, as a record keyed by feature name, beside records that answer otherwise.
    const predicted = await callJson('POST', `/v1/models/${name}/predict`, 200, {
      body: { instances: [record, { '0': 1 }, {}] },
    });
    const [expected] = testCase.outputs;
    expect(predicted.predictions).toHaveLength(3);
    expect(predicted.predictions[1]).not.toBe(predicted.predictions[0]);
    expectClose(
      { name: 'variable1', datatype: 'FP32', shape: [1, 1], data: [predicted.predictions[0]] },
      expected!,
      testCase.tolerance,
    );
    // The tensor the DictVectorizer would have made of it, by V2.
    const res = await infer(`/v2/models/${name}/infer`, {
      inputs: [
        {
          name: 'float_input',
          datatype: 'FP32',
          shape: [1, vocabulary.length],
          data: vocabulary.map((k) => record[k] ?? 0),
        },
      ],
    });
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expectClose(body.outputs[0], expected!, testCase.tolerance);
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

  it('serves the model-only lr_mnist_scikit (ZipMap, batch fixed at 1): many records answered row by row', async () => {
    const { name, version } = await uploaded('ort.lr_mnist_scikit');
    expect(version.serving.rewrites.map((r: any) => r.kind)).toEqual(['zipmap']);
    expect(version.class_labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const meta = await (await call('GET', `/v2/models/${name}`)).json<any>();
    expect(meta).toMatchObject({ name, platform: 'onnxruntime_onnx', versions: ['1'] });
    // The model's real shape: one row per run.
    expect(meta.inputs).toEqual([{ name: 'float_input', datatype: 'FP32', shape: [1, 780] }]);
    const next = seeded(780);
    const rows = Array.from({ length: 40 }, () => Array.from({ length: 780 }, () => Math.round(next() * 255)));
    const predicted = await callJson('POST', `/v1/models/${name}/predict`, 200, { body: { instances: rows } });
    expect(predicted.predictions).toHaveLength(rows.length);
    // Each row answers as it does alone, through the protocol that keeps the model's shape.
    for (const i of [0, 17, 39]) {
      const res = await infer(`/v2/models/${name}/infer`, {
        inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 780], data: rows[i] }],
      });
      const body = await res.json<any>();
      expect(res.status, JSON.stringify(body)).toBe(200);
      const [label, probabilities] = body.outputs;
      expect(probabilities).toMatchObject({ name: 'output_probability', datatype: 'FP32', shape: [1, 10] });
      const p = predicted.predictions[i];
      expect(p.label).toBe(String(label.data[0]));
      expect(Object.values(p.probabilities)).toEqual(probabilities.data);
      // (The logistic scores saturate on these rows: several classes may share the top probability.)
      expect(p.probabilities[p.label]).toBe(Math.max(...probabilities.data));
    }
  });
});
