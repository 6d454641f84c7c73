import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ADD_MODEL, call, callJson, fixture, sha256Hex, uniqueName, uploadMultipart, uploadRaw } from '../helpers';

async function storedState(name: string) {
  const models = await env.DB.prepare('select id from models where name = ?').bind(name).all();
  const versions = await env.DB.prepare(
    'select v.id from model_versions v join models m on m.id = v.model_id where m.name = ?',
  )
    .bind(name)
    .all();
  const objects = await env.BUCKET.list({ prefix: 'artifacts/' });
  return { models: models.results.length, versions: versions.results.length, objects: objects.objects.length };
}

describe('upload', () => {
  it('accepts a raw ONNX body and records checksum, size and signature', async () => {
    const name = uniqueName();
    const bytes = fixture(ADD_MODEL);
    const res = await uploadRaw(name, bytes);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/models/${name}/versions/1`);
    const body = await res.json<any>();
    expect(body.version).toBe(1);
    expect(body.model).toBe(name);
    expect(body.sha256).toBe(await sha256Hex(bytes));
    expect(body.size_bytes).toBe(bytes.byteLength);
    expect(body.signature).toEqual({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [3, 4, 5] },
        { name: 'y', datatype: 'FP32', shape: [3, 4, 5] },
      ],
      outputs: [{ name: 'sum', datatype: 'FP32', shape: [3, 4, 5] }],
      unserved_outputs: [],
    });
    expect(body.onnx.opsets).toContainEqual({ domain: 'ai.onnx', version: expect.any(Number) });
    expect(body.onnx.ir_version).toBeGreaterThan(0);
  });

  it('accepts multipart with metadata', async () => {
    const name = uniqueName();
    const metadata = {
      description: 'sum of two tensors',
      tags: { team: 'core' },
      metrics: { mse: 0.01 },
      feature_names: ['a', 'b'],
    };
    const res = await uploadMultipart(name, fixture(ADD_MODEL), metadata);
    expect(res.status).toBe(201);
    const body = await res.json<any>();
    expect(body).toMatchObject({
      version: 1,
      description: 'sum of two tensors',
      tags: { team: 'core' },
      metrics: { mse: 0.01 },
      feature_names: ['a', 'b'],
    });
  });

  it('reads symbolic dimensions as -1 and lists non-tensor outputs as unserved', async () => {
    const name = uniqueName();
    const body = await callJson('POST', `/v1/models/${name}/versions`, 201, {
      body: fixture('generated/import_sequence_output.onnx'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(body.signature.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [-1, 2] }]);
    expect(body.signature.unserved_outputs).toEqual([
      { name: 'parts', reason: "output 'parts' is a sequence or map, not a tensor" },
    ]);
    expect(body.serving).toBeNull();
    const gru = await callJson('POST', `/v1/models/${uniqueName()}/versions`, 201, {
      body: fixture('models/onnx-node.test_gru_defaults.onnx'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(gru.signature.inputs[0]).toMatchObject({ name: 'X', datatype: 'FP32' });
  });

  it('numbers versions 1, 2, 3 and refuses a duplicate file with 409 naming the version', async () => {
    const name = uniqueName();
    expect((await uploadRaw(name, fixture(ADD_MODEL))).status).toBe(201);
    const second = await uploadRaw(name, fixture('models/onnx-node.test_matmul_2d.onnx'));
    expect((await second.json<any>()).version).toBe(2);
    const dup = await uploadRaw(name, fixture(ADD_MODEL));
    expect(dup.status).toBe(409);
    const err = await dup.json<any>();
    expect(err.error.code).toBe('duplicate_version');
    expect(err.error.message).toContain('duplicates version 1');
    expect(err.error.details.version).toBe(1);
    expect((await storedState(name)).versions).toBe(2);
  });

  it('gives two concurrent uploads to a new model versions 1 and 2', async () => {
    const name = uniqueName();
    const [a, b] = await Promise.all([
      uploadRaw(name, fixture(ADD_MODEL)),
      uploadRaw(name, fixture('models/onnx-node.test_matmul_2d.onnx')),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    const versions = [(await a.json<any>()).version, (await b.json<any>()).version].sort();
    expect(versions).toEqual([1, 2]);
    const state = await storedState(name);
    expect(state.models).toBe(1);
    expect(state.versions).toBe(2);
  });

  it('lets only one of two concurrent uploads of the same bytes through', async () => {
    const name = uniqueName();
    await uploadRaw(name, fixture('models/onnx-node.test_sigmoid.onnx'));
    const before = (await env.BUCKET.list({ prefix: 'artifacts/' })).objects.length;
    const results = await Promise.all([uploadRaw(name, fixture(ADD_MODEL)), uploadRaw(name, fixture(ADD_MODEL))]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect((await env.BUCKET.list({ prefix: 'artifacts/' })).objects.length).toBe(before + 1);
  });

  describe('refuses invalid files and stores nothing', () => {
    const good = fixture(ADD_MODEL);
    const cases: [string, Uint8Array, number, RegExp][] = [
      ['an empty body', new Uint8Array(0), 422, /empty/],
      ['text', new TextEncoder().encode('this is not an onnx model at all'), 422, /not a valid ONNX model/],
      ['random bytes', crypto.getRandomValues(new Uint8Array(4096)), 422, /not a valid ONNX model/],
      ['a truncated model', good.slice(0, good.length - 17), 422, /truncated|protobuf/],
      [
        'a map input the import cannot turn into a tensor',
        fixture('generated/import_castmap.onnx'),
        422,
        /input 'm' is a map, read by node 'CastMap_dense'/,
      ],
    ];
    for (const [what, bytes, status, message] of cases) {
      it(`${what} → ${status}`, async () => {
        const name = uniqueName();
        const before = await storedState(name);
        const res = await uploadRaw(name, bytes);
        expect(res.status).toBe(status);
        const body = await res.json<any>();
        expect(body.error.code).toBe('invalid_model');
        expect(body.error.message).toMatch(message);
        expect(body.error.message).not.toMatch(/\/mnt\/|onnxruntime::/);
        expect(await storedState(name)).toEqual(before);
      });
    }

    it('a file over MAX_MODEL_BYTES → 413 before loading it', async () => {
      const name = uniqueName();
      const limit = Number(env.MAX_MODEL_BYTES);
      const before = await storedState(name);
      const res = await uploadRaw(name, new Uint8Array(limit + 1));
      expect(res.status).toBe(413);
      const body = await res.json<any>();
      expect(body.error.code).toBe('payload_too_large');
      expect(body.error.message).toMatch(/larger than the limit of/);
      expect(await storedState(name)).toEqual(before);
    });

    it('a streamed body without Content-Length over the limit → 413', async () => {
      const limit = Number(env.MAX_MODEL_BYTES);
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(Math.ceil(limit / 3)));
          controller.close();
        },
      });
      const res = await call('POST', `/v1/models/${uniqueName()}/versions`, {
        body: stream,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(res.status).toBe(413);
    });

    it('a multipart file over the limit → 413', async () => {
      const res = await uploadMultipart(uniqueName(), new Uint8Array(Number(env.MAX_MODEL_BYTES) + 10));
      expect(res.status).toBe(413);
    });
  });

  it('refuses other content types with 415 saying what to send', async () => {
    const res = await call('POST', `/v1/models/${uniqueName()}/versions`, {
      body: JSON.stringify({ model: 'x' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(415);
    expect((await res.json<any>()).error.message).toMatch(/application\/octet-stream.*multipart\/form-data/);
  });

  it('refuses multipart without a file part or with bad metadata, naming the problem', async () => {
    const noFile = new FormData();
    noFile.append('metadata', '{}');
    const res = await call('POST', `/v1/models/${uniqueName()}/versions`, { body: noFile });
    expect(res.status).toBe(400);
    expect((await res.json<any>()).error.message).toMatch(/no 'file' part/);

    const badJson = await uploadMultipartRawMetadata('{not json');
    expect(badJson.status).toBe(400);
    expect((await badJson.json<any>()).error.message).toMatch(/'metadata' part is not valid JSON/);

    const badField = await uploadMultipart(uniqueName(), fixture(ADD_MODEL), { metrics: { acc: 'high' } });
    expect(badField.status).toBe(400);
    expect((await badField.json<any>()).error.message).toMatch(/'metadata' part 'metrics.acc'/);

    const unknownField = await uploadMultipart(uniqueName(), fixture(ADD_MODEL), { colour: 'red' });
    expect(unknownField.status).toBe(400);
    expect((await unknownField.json<any>()).error.message).toMatch(/colour/);
  });

  it('refuses uploads to an archived model until it is restored', async () => {
    const name = uniqueName();
    await uploadRaw(name, fixture(ADD_MODEL));
    await callJson('DELETE', `/v1/models/${name}`, 200);
    const res = await uploadRaw(name, fixture('models/onnx-node.test_matmul_2d.onnx'));
    expect(res.status).toBe(409);
    expect((await res.json<any>()).error.code).toBe('model_archived');
    await callJson('PATCH', `/v1/models/${name}`, 200, { body: { archived: false } });
    expect((await uploadRaw(name, fixture('models/onnx-node.test_matmul_2d.onnx'))).status).toBe(201);
  });
});

function uploadMultipartRawMetadata(metadata: string) {
  const form = new FormData();
  form.append('file', new File([fixture(ADD_MODEL)], 'm.onnx'));
  form.append('metadata', metadata);
  return call('POST', `/v1/models/${uniqueName()}/versions`, { body: form });
}
