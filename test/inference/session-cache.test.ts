import { env } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { readCachedModelBytes } from '../../workers/inference/model-bytes';
import { SESSION_OVERHEAD_BYTES, SessionCache } from '../../workers/inference/session-cache';

/** What an entry of a 100-byte file counts for: the file and a session's fixed overhead. */
const ENTRY = 100 + SESSION_OVERHEAD_BYTES;
import type { LoadedModel } from '../../workers/runtime/model-session';
import { loadOnnxModel } from '../../workers/runtime/onnx-session';
import { fixture, infer, newModel, sha256Hex, testWorker, uploadRaw } from '../helpers';
import { pb } from '../hostile/onnx-writer';

const MODEL = fixture('models/onnx-node.test_sigmoid.onnx');

/** A real loaded model whose release() is observed. */
async function loaded(): Promise<LoadedModel & { released: () => boolean }> {
  const model = await loadOnnxModel(MODEL);
  const release = vi.spyOn(model.session, 'release');
  return Object.assign(model, { released: () => release.mock.calls.length > 0 });
}

describe('SessionCache', () => {
  it('evicts the least recently used entries once the byte bound is exceeded, and releases them', async () => {
    const cache = new SessionCache(3 * ENTRY);
    const models = { a: await loaded(), b: await loaded(), c: await loaded() };
    const use = (key: keyof typeof models) =>
      cache.with(
        key,
        100,
        async () => models[key],
        async () => key,
      );
    await use('a');
    await use('b');
    await use('c');
    await use('a'); // a is now the most recent; b is the oldest
    const d = await loaded();
    await cache.with(
      'd',
      100,
      async () => d,
      async () => 'd',
    );
    expect(cache.has('b')).toBe(false);
    expect(['a', 'c', 'd'].every((k) => cache.has(k))).toBe(true);
    expect(models.b.released()).toBe(true);
    expect(models.a.released() || models.c.released() || d.released()).toBe(false);
    expect(cache.stats()).toMatchObject({ loads: 4, hits: 1, evictions: 1, entries: 3, bytes: 3 * ENTRY });
  });

  it('does not release a session that a request is still using', async () => {
    const cache = new SessionCache(ENTRY);
    const first = await loaded();
    let finish!: () => void;
    const running = cache.with(
      'first',
      100,
      async () => first,
      () => new Promise<void>((r) => (finish = r)),
    );
    await Promise.resolve();
    await cache.with(
      'second',
      100,
      async () => loaded(),
      async () => undefined,
    );
    expect(cache.has('first')).toBe(false);
    expect(first.released()).toBe(false);
    finish();
    await running;
    expect(first.released()).toBe(true);
  });

  it('shares one load between concurrent requests and forgets a failed load', async () => {
    const cache = new SessionCache(10 * ENTRY);
    const load = vi.fn(async () => loaded());
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.with('k', 10, load, async () => 'ok')));
    expect(results).toEqual(Array(10).fill('ok'));
    expect(load).toHaveBeenCalledTimes(1);
    const failing = vi.fn(async (): Promise<LoadedModel> => {
      throw new Error('R2 is down');
    });
    await expect(cache.with('bad', 10, failing, async () => 'never')).rejects.toThrow('R2 is down');
    expect(cache.has('bad')).toBe(false);
    await expect(cache.with('bad', 10, load, async () => 'recovered')).resolves.toBe('recovered');
  });
});

describe('sessions in the worker', () => {
  it('concurrent cold requests for one model cause exactly one load', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'cold');
    // A worker of its own: the upload's isolate kept the validated session warm, this one has none.
    const cold = testWorker();
    const request = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] };
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        infer(`/v2/models/${name}/infer`, request, { 'cache-control': 'no-store' }, cold),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(cold.services.sessions.stats()).toMatchObject({ loads: 1, hits: 7 });
    const timing = await Promise.all(responses.map((r) => r.headers.get('server-timing')));
    expect(timing.filter((t) => t!.includes('load;dur')).length).toBeGreaterThanOrEqual(1);
  });

  it('a version never answers with another version’s session', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'iso');
    expect((await uploadRaw(name, fixture('generated/regressor2.onnx'))).status).toBe(201);
    const request = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [2, 2] }] };
    const [one, two] = await Promise.all([
      infer(`/v2/models/${name}/versions/1/infer`, request, { 'cache-control': 'no-store' }),
      infer(`/v2/models/${name}/versions/2/infer`, request, { 'cache-control': 'no-store' }),
    ]);
    expect((await one.json<any>()).outputs[0].data).toEqual([2.5]);
    expect((await two.json<any>()).outputs[0].data).toEqual([4]);
  });

  it('loads a model from R2 when cold, then again from the Cache API after eviction', async () => {
    // Bytes no other test has: the Cache API is keyed by the file's sha256, shared by every test here.
    const bytes = new Uint8Array([...fixture('generated/regressor2.onnx'), ...pb.str(6, `doc ${crypto.randomUUID()}`)]);
    const name = await newModel(bytes, 'again');
    const { sha256, artifact_key: artifactKey } = (await env.DB.prepare(
      'select v.sha256, v.artifact_key from model_versions v join models m on m.id = v.model_id where m.name = ?',
    )
      .bind(name)
      .first<{ sha256: string; artifact_key: string }>())!;
    expect(sha256).toBe(await sha256Hex(bytes));
    expect(await readCachedModelBytes(sha256)).toBeNull();

    const request = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 1] }] };
    /** A prediction on a new isolate's worth of caches: it loads the model, as Server-Timing shows. */
    const coldPrediction = async () => {
      const cold = testWorker();
      const res = await infer(`/v2/models/${name}/infer`, request, { 'cache-control': 'no-store' }, cold);
      expect(res.status).toBe(200);
      expect(res.headers.get('server-timing')).toMatch(/\bload;dur=/);
      expect((await res.json<any>()).outputs[0].data).toEqual([2]);
      expect(cold.services.sessions.stats().loads).toBe(1);
    };

    // Cold, with only R2 holding the file: read from R2, then copied into the Cache API.
    await coldPrediction();
    let cached: Uint8Array | null = null;
    for (let i = 0; i < 100 && !cached; i++) {
      await new Promise((r) => setTimeout(r, 10));
      cached = await readCachedModelBytes(sha256);
    }
    expect(cached).toEqual(bytes);

    // Cold again with the R2 object gone: only the Cache API can have served the load.
    await env.BUCKET.delete(artifactKey);
    await coldPrediction();
  });
});
