import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../workers/core/logger';
import { repairArtifacts } from '../../workers/registry/repair';
import { database } from '../../workers/storage/db';
import { servingKey } from '../../workers/storage/r2-keys';
import {
  call,
  callJson,
  fixture,
  resultLines,
  sha256Hex,
  uniqueName,
  uploadMultipart,
  uploadRaw,
  waitForJob,
} from '../helpers';

/*
 * Import, then serve (issue 15.1): a model onnxruntime-web cannot serve as it is is rewritten at
 * upload into a serving graph stored beside the original, which stays the version's artifact.
 * The values these graphs compute are checked against onnxruntime-node in
 * test/node/import-parity.test.ts; here, what the registry records and how serving uses it.
 */

const model = (name: string) => fixture(`generated/import_${name}.onnx`);

async function stored(name: string) {
  const versions = await env.DB.prepare(
    'select v.id from model_versions v join models m on m.id = v.model_id where m.name = ?',
  )
    .bind(name)
    .all();
  const objects = await env.BUCKET.list({ prefix: 'artifacts/' });
  return { versions: versions.results.length, objects: objects.objects.length };
}

async function versionRow(name: string, version = 1) {
  return (await env.DB.prepare(
    `select v.id, v.workspace_id, v.artifact_key, v.serving from model_versions v
     join models m on m.id = v.model_id where m.name = ? and v.version = ?`,
  )
    .bind(name, version)
    .first<{ id: string; workspace_id: string; artifact_key: string; serving: string | null }>())!;
}

async function upload(name: string, bytes: Uint8Array) {
  const res = await uploadRaw(name, bytes);
  const body = await res.json<any>();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

const predict = (name: string, instances: unknown[]) =>
  callJson('POST', `/v1/models/${name}/predict`, 200, { body: { instances } });

describe('import, then serve', () => {
  it('keeps the uploaded file as the artifact, byte for byte, and stores the serving graph beside it', async () => {
    const name = uniqueName('zipmap');
    const bytes = model('zipmap_int64');
    const version = await upload(name, bytes);
    expect(version).toMatchObject({ sha256: await sha256Hex(bytes), size_bytes: bytes.byteLength });
    expect(version.serving).toEqual({
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      size_bytes: expect.any(Number),
      rewrites: [
        { kind: 'zipmap', node: 'ZipMap_probabilities', output: 'probabilities', class_labels: ['3', '7', '11'] },
      ],
    });
    expect(version.serving.sha256).not.toBe(version.sha256);
    // What the ONNX header says is the uploaded file's, not the serving graph's.
    expect(version.onnx).toMatchObject({ producer_name: 'modelflare-scripts' });
    expect(version.onnx.opsets).toEqual([
      { domain: 'ai.onnx', version: 17 },
      { domain: 'ai.onnx.ml', version: 1 },
    ]);

    const artifact = await call('GET', `/v1/models/${name}/versions/1/artifact`);
    expect(new Uint8Array(await artifact.arrayBuffer())).toEqual(bytes);

    const row = await versionRow(name);
    const servingFile = await env.BUCKET.get(servingKey(row.workspace_id, row.id));
    expect(servingFile).not.toBeNull();
    const served = new Uint8Array(await servingFile!.arrayBuffer());
    expect(await sha256Hex(served)).toBe(version.serving.sha256);
    expect(served.byteLength).toBe(version.serving.size_bytes);
    expect(JSON.parse(row.serving!).key).toBe(servingKey(row.workspace_id, row.id));
  });

  it('serves a ZipMap as an FP32 tensor in class-label order; its labels become the class labels', async () => {
    const name = uniqueName('zipmap');
    const version = await upload(name, model('zipmap_int64'));
    expect(version.class_labels).toEqual(['3', '7', '11']);
    expect(version.signature).toEqual({
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
      unserved_outputs: [],
    });
    // The upload created the model: a classifier.
    expect((await callJson('GET', `/v1/models/${name}`, 200)).task).toBe('classification');
    const meta = await callJson('GET', `/v2/models/${name}`, 200);
    expect(meta.outputs).toContainEqual({ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] });

    const rows = [
      [1, 2, 3],
      [-1, 0, 2],
      [0.5, -2, 1],
    ];
    const v2 = await callJson('POST', `/v2/models/${name}/infer`, 200, {
      body: { inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 3], data: rows.flat() }] },
    });
    const [label, probabilities] = v2.outputs;
    expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 3] });
    const { predictions } = await predict(name, rows);
    predictions.forEach((p: any, i: number) => {
      const row = probabilities.data.slice(i * 3, i * 3 + 3);
      expect(p).toEqual({ label: String(label.data[i]), probabilities: { '3': row[0], '7': row[1], '11': row[2] } });
      expect(p.probabilities[p.label]).toBe(Math.max(...row));
      expect(row.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    });
  });

  it('answers with the class labels the user set when they count as many; refuses other counts naming both', async () => {
    const named = uniqueName('zipmap');
    const res = await uploadMultipart(named, model('zipmap_string'), { class_labels: ['Cat', 'Dog', 'Bird', 'Fish'] });
    expect(res.status).toBe(201);
    expect((await res.json<any>()).class_labels).toEqual(['Cat', 'Dog', 'Bird', 'Fish']);
    const v2 = await callJson('POST', `/v2/models/${named}/infer`, 200, {
      body: { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], data: [1, 2, -3, 0.5] }] },
    });
    const { predictions } = await predict(named, [
      [1, 2],
      [-3, 0.5],
    ]);
    const graphLabels = ['cat', 'dog', 'bird', 'fish'];
    predictions.forEach((p: any, i: number) => {
      // The label output says 'dog'; the user calls that class 'Dog'.
      const graphLabel = v2.outputs[0].data[i];
      expect(p.label).toBe(['Cat', 'Dog', 'Bird', 'Fish'][graphLabels.indexOf(graphLabel)]);
      expect(Object.keys(p.probabilities)).toEqual(['Cat', 'Dog', 'Bird', 'Fish']);
    });

    const name = uniqueName('zipmap');
    const before = await stored(name);
    const refused = await uploadMultipart(name, model('zipmap_string'), { class_labels: ['yes', 'no'] });
    expect(refused.status).toBe(422);
    expect((await refused.json<any>()).error).toMatchObject({
      code: 'invalid_model',
      message:
        "the class labels set for this upload (2: yes, no) do not match the 4 of ZipMap 'ZipMap_probabilities' (cat, dog, bird, fish)",
    });
    expect(await stored(name)).toEqual(before);

    // Labels set on the model count too.
    const preset = uniqueName('zipmap');
    await callJson('POST', '/v1/models', 201, { body: { name: preset, class_labels: ['x', 'y'] } });
    const refusedToo = await uploadRaw(preset, model('zipmap_int64'));
    expect(refusedToo.status).toBe(422);
    expect((await refusedToo.json<any>()).error.message).toBe(
      "the class labels set for the model (2: x, y) do not match the 3 of ZipMap 'ZipMap_probabilities' (3, 7, 11)",
    );
    expect(await stored(preset)).toEqual({ versions: 0, objects: before.objects });
  });

  it('turns a DictVectorizer map input into a tensor whose features are the vocabulary; records may leave keys out', async () => {
    const name = uniqueName('dictvec');
    const version = await upload(name, model('dictvectorizer'));
    expect(version.feature_names).toEqual(['height', 'weight', 'age', 'income']);
    expect(version.class_labels).toEqual(['no', 'yes', 'maybe']);
    expect(version.serving.rewrites.map((r: any) => r.kind)).toEqual(['dict_vectorizer', 'zipmap']);
    expect(version.signature.inputs).toEqual([{ name: 'record', datatype: 'FP32', shape: [-1, 4] }]);

    const sparse = await predict(name, [{ height: 180, weight: 82, age: 41, income: 72000 }, { height: 165 }, {}]);
    const dense = await predict(name, [
      [180, 82, 41, 72000],
      [165, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(sparse.predictions).toEqual(dense.predictions);
    expect(sparse.predictions[0]).toMatchObject({ label: expect.stringMatching(/^(no|yes|maybe)$/) });

    const unknown = await call('POST', `/v1/models/${name}/predict`, {
      body: { instances: [{ height: 1, shoe: 42 }] },
    });
    expect(unknown.status).toBe(400);
    expect((await unknown.json<any>()).error.message).toMatch(/'shoe'/);

    const refused = await uploadMultipart(uniqueName('dictvec'), model('dictvectorizer'), {
      feature_names: ['a', 'b'],
    });
    expect(refused.status).toBe(422);
    expect((await refused.json<any>()).error.message).toBe(
      "the feature names set for this upload (2: a, b) do not match the 4 of the vocabulary of DictVectorizer 'DictVectorizer_dense' (height, weight, age, income)",
    );
  });

  for (const op of ['lstm', 'gru']) {
    it(`serves a batchwise ${op.toUpperCase()} with its batch-first signature; each row answers as it does alone`, async () => {
      const name = uniqueName(op);
      const version = await upload(name, model(`${op}_batchwise`));
      expect(version.serving.rewrites).toEqual([
        { kind: 'batchwise_rnn', node: `${op.toUpperCase()}_Y`, op: op.toUpperCase() },
      ]);
      const x = version.signature.inputs[0];
      expect(x).toEqual({ name: 'X', datatype: 'FP32', shape: [-1, 4, 2] });
      const states = version.signature.inputs.slice(1);
      const dirs = op === 'lstm' ? 2 : 1;
      expect(version.signature.outputs[0]).toEqual({ name: 'Y', datatype: 'FP32', shape: [-1, 4, dirs, 3] });
      const rows = 3;
      const X = Array.from({ length: rows * 8 }, (_, i) => Math.sin(i) * 2);
      const state = Array.from({ length: rows * dirs * 3 }, (_, i) => Math.cos(i) / 2);
      const inputs = (from: number, to: number) => [
        { name: 'X', datatype: 'FP32', shape: [to - from, 4, 2], data: X.slice(from * 8, to * 8) },
        ...states.map((s: any) => ({
          name: s.name,
          datatype: 'FP32',
          shape: [to - from, dirs, 3],
          data: state.slice(from * dirs * 3, to * dirs * 3),
        })),
      ];
      const all = await callJson('POST', `/v2/models/${name}/infer`, 200, { body: { inputs: inputs(0, rows) } });
      for (let i = 0; i < rows; i++) {
        const alone = await callJson('POST', `/v2/models/${name}/infer`, 200, { body: { inputs: inputs(i, i + 1) } });
        alone.outputs.forEach((o: any, k: number) => {
          const batched = all.outputs[k];
          expect(batched.shape).toEqual([rows, ...o.shape.slice(1)]);
          const size = o.data.length;
          batched.data.slice(i * size, (i + 1) * size).forEach((v: number, j: number) => {
            expect(v, `${o.name}[${i}][${j}]`).toBeCloseTo(o.data[j], 5);
          });
        });
      }
    });
  }

  it('refuses with 422 naming the node what it still cannot serve, and stores nothing', async () => {
    const name = uniqueName('castmap');
    const before = await stored(name);
    const res = await uploadRaw(name, model('castmap'));
    expect(res.status).toBe(422);
    expect((await res.json<any>()).error).toMatchObject({
      code: 'invalid_model',
      message:
        "this model cannot be served: input 'm' is a map, read by node 'CastMap_dense' (CastMap); only a map read by DictVectorizer can be turned into a tensor input",
    });
    expect(await stored(name)).toEqual(before);
  });

  it('serves as it is a model whose non-tensor output nothing rewrites', async () => {
    const version = await upload(uniqueName('seq'), model('sequence_output'));
    expect(version.serving).toBeNull();
    expect(version.signature.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [-1, 2] }]);
    expect(version.signature.unserved_outputs).toEqual([
      { name: 'parts', reason: "output 'parts' is a sequence or map, not a tensor" },
    ]);
  });

  it('refuses a duplicate of a rewritten file with 409 and leaves no file behind', async () => {
    const name = uniqueName('dup');
    await upload(name, model('gru_batchwise'));
    const before = await stored(name);
    const dup = await uploadRaw(name, model('gru_batchwise'));
    expect(dup.status).toBe(409);
    expect(await stored(name)).toEqual(before);
  });

  it('keeps a live serving graph through the repair pass and deletes it with the model', async () => {
    const name = uniqueName('purge');
    await upload(name, model('zipmap_int64'));
    const row = await versionRow(name);
    const files = [row.artifact_key, servingKey(row.workspace_id, row.id)];
    const deps = { db: database(env.DB), bucket: env.BUCKET, logger: createLogger() };
    // Long after the upload: a file no version names would be deleted now.
    const repair = await repairArtifacts(deps, Date.now() + 3_600_000, 60);
    for (const key of files) {
      expect(repair.deleted).not.toContain(key);
      expect(await env.BUCKET.head(key)).not.toBeNull();
    }
    expect(repair.missing.filter((m) => m.versionId === row.id)).toEqual([]);

    expect((await call('DELETE', `/v1/models/${name}?purge=true`)).status).toBe(204);
    for (const key of files) expect(await env.BUCKET.head(key)).toBeNull();
  });

  it('runs a model whose batch is fixed at 1 row by row in a batch job', async () => {
    const name = uniqueName('fixed');
    await upload(name, fixture('generated/fixedbatch.onnx'));
    const rows = Array.from({ length: 30 }, (_, i) => [i - 15, 15 - i]);
    const job = await callJson('POST', '/v1/jobs', 202, { body: { model: name, input: { rows } } });
    expect(await waitForJob(job.id)).toMatchObject({ status: 'succeeded', rows: { total: 30, done: 30, failed: 0 } });
    const lines = await resultLines(job.id);
    expect(lines.map((l) => l.prediction)).toEqual(rows.map((r) => r.map((v) => Math.max(0, v))));
  });
});
