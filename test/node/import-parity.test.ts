/*
 * Import, then serve (issue 15.1), checked against onnxruntime-node: each rewrite's input is
 * built here (scripts/onnx/import-models.mjs), uploaded to the real server, and what it serves is
 * compared with what onnxruntime-node computes from the original file.
 *
 * onnxruntime-node can read no sequence of maps, take no map input, and run no batchwise
 * recurrent layer either, so for the values it cannot reach in the original file it runs a twin
 * built beside it: the original with the ZipMap's input also a graph output, the pipeline after
 * its DictVectorizer (fed the tensor this test makes of each record), the recurrent layer
 * sequence-first (fed and read through transposes this test does on the data).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { rng } from '../../scripts/demo-model.mjs';
import { withOutputs } from '../../scripts/onnx/build.mjs';
import { buildImportModels } from '../../scripts/onnx/import-models.mjs';
import { runCli, tempHome, uniqueName } from './cli';
import { ROOT } from './server';

const MODELS = buildImportModels();
const MNIST = readFileSync(join(ROOT, '../shared/fixtures/onnx/models/ort.lr_mnist_scikit.onnx'));

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const server = inject('server');
  const binary = body instanceof Uint8Array;
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.adminKey}`,
      'content-type': binary ? 'application/octet-stream' : 'application/json',
    },
    body: body === undefined ? undefined : binary ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

const upload = (name: string, bytes: Uint8Array) => api('POST', `/v1/models/${name}/versions`, bytes);

/** onnxruntime-node's outputs for `fetches`, as plain number (or string) arrays. */
async function reference(
  bytes: Uint8Array,
  feeds: Record<string, { data: number[]; dims: number[] }>,
  fetches: string[],
): Promise<Record<string, unknown[]>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', Float32Array.from(v.data), v.dims)]),
    );
    const results = await session.run(tensors, fetches);
    return Object.fromEntries(
      fetches.map((name) => [
        name,
        Array.from(results[name]!.data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v)),
      ]),
    );
  } finally {
    await session.release();
  }
}

function expectClose(actual: number[], expected: number[], what: string, atol = 1e-5) {
  expect(actual, what).toHaveLength(expected.length);
  actual.forEach((v, i) =>
    expect(Math.abs(v - expected[i]!), `${what}[${i}]: ${v} vs ${expected[i]}`).toBeLessThan(atol),
  );
}

/** A row-major array of `dims` with axes permuted (out axis k = in axis perm[k]). */
function transpose(data: number[], dims: number[], perm: number[]): number[] {
  const outDims = perm.map((p) => dims[p]!);
  const strides = dims.map((_, k) => dims.slice(k + 1).reduce((a, b) => a * b, 1));
  const out = new Array<number>(data.length);
  const index = new Array<number>(outDims.length).fill(0);
  for (let o = 0; o < data.length; o++) {
    let from = 0;
    index.forEach((v, k) => (from += v * strides[perm[k]!]!));
    out[o] = data[from]!;
    for (let k = outDims.length - 1; k >= 0; k--) {
      if (++index[k]! < outDims[k]!) break;
      index[k] = 0;
    }
  }
  return out;
}

const random = (count: number, seed: number, scale = 2) => {
  const r = rng(seed);
  return Array.from({ length: count }, () => Math.round(r.normal() * scale * 1e4) / 1e4);
};

describe('the import against onnxruntime-node running the original', () => {
  for (const kind of ['zipmap_int64', 'zipmap_string'] as const) {
    it(`${kind}: label and probabilities, by V2 and by instances`, async () => {
      const m = MODELS[kind];
      const name = uniqueName(kind.replace('_', '-'));
      const version = await upload(name, m.original);
      expect(version.class_labels).toEqual(m.labels);
      const features = version.signature.inputs[0].shape[1];
      const rows = 16;
      const data = random(rows * features, kind.length);
      const feeds = { features: { data, dims: [rows, features] } };
      // The label from the original file itself; the probabilities the ZipMap was given.
      const { label } = await reference(m.original, feeds, ['label']);
      const { scores } = await reference(m.reference, feeds, ['scores']);

      const v2 = await api('POST', `/v2/models/${name}/infer`, {
        inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, features], data }],
      });
      expect(v2.outputs.map((o: any) => [o.name, o.shape])).toEqual([
        ['label', [rows]],
        ['probabilities', [rows, m.labels.length]],
      ]);
      expect(v2.outputs[0].data).toEqual(label);
      expectClose(v2.outputs[1].data, scores as number[], 'probabilities');

      const instances = Array.from({ length: rows }, (_, i) => data.slice(i * features, (i + 1) * features));
      const { predictions } = await api('POST', `/v1/models/${name}/predict`, { instances });
      predictions.forEach((p: any, i: number) => {
        expect(p.label).toBe(String(label![i]));
        const row = (scores as number[]).slice(i * m.labels.length, (i + 1) * m.labels.length);
        expectClose(
          m.labels.map((l: string) => p.probabilities[l]),
          row,
          `row ${i}`,
        );
      });
    });
  }

  it('a DictVectorizer pipeline: records keyed by feature, keys left out counting as 0', async () => {
    const m = MODELS.dictvectorizer;
    const name = uniqueName('dictvec');
    const version = await upload(name, m.original);
    expect(version.feature_names).toEqual(m.vocabulary);
    const r = rng(99);
    const records = Array.from({ length: 12 }, (_, i) => {
      const record: Record<string, number> = {};
      m.vocabulary.forEach((key: string, k: number) => {
        // Each record leaves out some keys: a DictVectorizer's sparse input.
        if ((i + k) % 3 !== 0) record[key] = Math.round([175, 75, 40, 50000][k]! * (0.7 + 0.6 * r.uniform()));
      });
      return record;
    });
    const dense = records.flatMap((record) => m.vocabulary.map((key: string) => record[key] ?? 0));
    const expected = await reference(m.reference, { dense: { data: dense, dims: [records.length, 4] } }, [
      'label',
      'scores',
    ]);
    const { predictions } = await api('POST', `/v1/models/${name}/predict`, { instances: records });
    predictions.forEach((p: any, i: number) => {
      expect(p.label, `record ${i}`).toBe(expected.label![i]);
      expectClose(
        m.labels.map((l: string) => p.probabilities[l]),
        (expected.scores as number[]).slice(i * 3, i * 3 + 3),
        `record ${i}`,
      );
    });
  });

  for (const kind of ['lstm_batchwise', 'gru_batchwise'] as const) {
    it(`${kind}: outputs batch first, as the layer computes them sequence-first`, async () => {
      const m = MODELS[kind];
      // The reason for the twin: onnxruntime itself refuses layout = 1.
      await expect(ort.InferenceSession.create(m.original)).rejects.toThrow(/layout/);
      const name = uniqueName(kind.replace('_', '-'));
      const version = await upload(name, m.original);
      const { input, hidden, seq, dirs } = m.shape;
      const batch = 5;
      const states = version.signature.inputs.slice(1).map((s: any) => s.name);
      const X = random(batch * seq * input, 7);
      const stateData = Object.fromEntries(
        states.map((s: string, k: number) => [s, random(batch * dirs * hidden, 11 + k, 0.5)]),
      );
      const v2 = await api('POST', `/v2/models/${name}/infer`, {
        inputs: [
          { name: 'X', datatype: 'FP32', shape: [batch, seq, input], data: X },
          ...states.map((s: string) => ({
            name: s,
            datatype: 'FP32',
            shape: [batch, dirs, hidden],
            data: stateData[s],
          })),
        ],
      });
      const outputs: string[] = v2.outputs.map((o: any) => o.name);
      const expected = await reference(
        m.reference,
        {
          X: { data: transpose(X, [batch, seq, input], [1, 0, 2]), dims: [seq, batch, input] },
          ...Object.fromEntries(
            states.map((s: string) => [
              s,
              { data: transpose(stateData[s]!, [batch, dirs, hidden], [1, 0, 2]), dims: [dirs, batch, hidden] },
            ]),
          ),
        },
        outputs,
      );
      v2.outputs.forEach((o: any) => {
        const batchFirst =
          o.name === 'Y'
            ? transpose(expected[o.name] as number[], [seq, dirs, batch, hidden], [2, 0, 1, 3])
            : transpose(expected[o.name] as number[], [dirs, batch, hidden], [1, 0, 2]);
        expect(o.shape).toEqual(o.name === 'Y' ? [batch, seq, dirs, hidden] : [batch, dirs, hidden]);
        expectClose(o.data, batchFirst, o.name);
      });
    });
  }
});

describe('the CLI with models it could not serve before', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempHome();
  });

  it('pushes a ZipMap classifier and shows its probabilities', async () => {
    const file = join(dir, 'voter.onnx');
    writeFileSync(file, MODELS.zipmap_string.original);
    const name = uniqueName('voter');
    const created = await runCli(['models', 'create', name, '--class-labels', 'Cat,Dog,Bird,Fish', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const push = await runCli(['models', 'push', file, '--name', name, '--json']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.json().serving.rewrites).toEqual([
      {
        kind: 'zipmap',
        node: 'ZipMap_probabilities',
        output: 'probabilities',
        class_labels: ['cat', 'dog', 'bird', 'fish'],
      },
    ]);

    const rows = [
      [1, 2],
      [-3, 0.5],
    ];
    const json = await runCli(['predict', name, '--data', JSON.stringify(rows), '--json']);
    expect(json.code, json.stderr).toBe(0);
    const { predictions } = json.json();
    const features = { features: { data: rows.flat(), dims: [2, 2] } };
    const { scores } = await reference(MODELS.zipmap_string.reference, features, ['scores']);
    const { label } = await reference(MODELS.zipmap_string.original, features, ['label']);
    predictions.forEach((p: any, i: number) => {
      expect(p.label).toBe(['Cat', 'Dog', 'Bird', 'Fish'][['cat', 'dog', 'bird', 'fish'].indexOf(label![i] as string)]);
      expectClose(
        ['Cat', 'Dog', 'Bird', 'Fish'].map((l) => p.probabilities[l]),
        (scores as number[]).slice(i * 4, i * 4 + 4),
        `row ${i}`,
      );
    });

    const table = await runCli(['predict', name, '--data', JSON.stringify(rows)]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/LABEL\s+PROBABILITY/);
    predictions.forEach((p: any, i: number) =>
      expect(table.stdout).toMatch(new RegExp(`${i}\\s+${p.label}\\s+${p.probabilities[p.label].toFixed(4)}`)),
    );
  });

  it('predicts lr_mnist_scikit (batch fixed at 1, ZipMap) from a CSV of many rows', async () => {
    const name = uniqueName('mnist');
    const pixels = Array.from({ length: 780 }, (_, i) => `px${i}`);
    const created = await runCli(['models', 'create', name, '--feature-names', pixels.join(','), '--json']);
    expect(created.code, created.stderr).toBe(0);
    const file = join(dir, 'mnist.onnx');
    writeFileSync(file, MNIST);
    const push = await runCli(['models', 'push', file, '--name', name, '--json']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.json().signature.inputs).toEqual([{ name: 'float_input', datatype: 'FP32', shape: [1, 780] }]);

    const rows = 120;
    const r = rng(2024);
    // Sparse strokes of ink on a blank page, as MNIST digits are.
    const data = Array.from({ length: rows * 780 }, () => (r.uniform() < 0.2 ? Math.round(r.uniform() * 16) : 0));
    const csv = [
      pixels.join(','),
      ...Array.from({ length: rows }, (_, i) => data.slice(i * 780, (i + 1) * 780).join(',')),
    ];
    const csvFile = join(dir, 'mnist.csv');
    writeFileSync(csvFile, `${csv.join('\n')}\n`);
    const predicted = await runCli(['predict', name, '--file', csvFile, '--batch-size', '50', '--json']);
    expect(predicted.code, predicted.stderr).toBe(0);
    const { predictions } = predicted.json();
    expect(predictions).toHaveLength(rows);

    // onnxruntime-node runs the original one row at a time too: its batch is fixed at 1.
    const tapped = withOutputs(MNIST, { probabilities: 'FP32' });
    for (let i = 0; i < rows; i++) {
      const feeds = { float_input: { data: data.slice(i * 780, (i + 1) * 780), dims: [1, 780] } };
      const { output_label } = await reference(MNIST, feeds, ['output_label']);
      const { probabilities } = await reference(tapped, feeds, ['probabilities']);
      expect(predictions[i].label, `row ${i}`).toBe(String(output_label![0]));
      const labels = Array.from({ length: 10 }, (_, k) => String(k));
      expectClose(
        labels.map((l) => predictions[i].probabilities[l]),
        probabilities as number[],
        `row ${i}`,
      );
    }
  });
});
