import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { predictionMemory } from '../../workers/cache/prediction-cache';
import { callJson, fixture, infer, newModel, uploadRaw } from '../helpers';

const body = (x: number[][]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [x.length, 2], data: x }] });

/** Cache writes happen after the response (waitUntil): ask again until the entry is there. */
async function untilHit(path: string, request: unknown): Promise<Response> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await infer(path, request);
    if (res.headers.get('x-cache') === 'HIT') return res;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the prediction never came from the cache');
}

const keysOf = async (prefix = 'pred:') => (await env.CACHE.list({ prefix })).keys;

describe('prediction cache', () => {
  it('misses, then hits with the same answer, for flat and nested forms of one input', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pc');
    const first = await infer(`/v2/models/${name}/infer`, { id: 'a', ...body([[1, 2]]) });
    expect(first.headers.get('x-cache')).toBe('MISS');
    const miss = await first.json<any>();
    const hit = await untilHit(`/v2/models/${name}/infer`, {
      id: 'b',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1.0, 2.0] }],
    });
    const cached = await hit.json<any>();
    expect(cached.outputs).toEqual(miss.outputs);
    expect(cached.id).toBe('b');
    expect(hit.headers.get('server-timing')).toMatch(/cache;dur=/);
  });

  it('keys on the version: a new version of the model never answers from the old one’s entry', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pcv');
    await untilHit(`/v2/models/${name}/infer`, body([[3, 4]]));
    expect((await uploadRaw(name, fixture('generated/regressor2.onnx'))).status).toBe(201);
    const res = await infer(`/v2/models/${name}/infer`, body([[3, 4]]));
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect((await res.json<any>()).outputs[0].data).toEqual([7]); // 3 + 4, not 2·3 − 4 + 0.5
    const pinned = await infer(`/v2/models/${name}/versions/1/infer`, body([[3, 4]]));
    expect(pinned.headers.get('x-cache')).toBe('HIT');
    expect((await pinned.json<any>()).outputs[0].data).toEqual([2.5]);
  });

  it('never shares entries between two models with the same bytes', async () => {
    const a = await newModel(fixture('generated/regressor.onnx'), 'pca');
    const b = await newModel(fixture('generated/regressor.onnx'), 'pcb');
    await untilHit(`/v2/models/${a}/infer`, body([[5, 6]]));
    expect((await infer(`/v2/models/${b}/infer`, body([[5, 6]]))).headers.get('x-cache')).toBe('MISS');
  });

  it('keys on the requested outputs', async () => {
    const name = await newModel(fixture('generated/iris.onnx'), 'pco');
    const input = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5, 3, 1.5, 0.2] }] };
    await untilHit(`/v2/models/${name}/infer`, input);
    const subset = await infer(`/v2/models/${name}/infer`, { ...input, outputs: [{ name: 'label' }] });
    expect(subset.headers.get('x-cache')).toBe('MISS');
    expect((await subset.json<any>()).outputs.map((o: any) => o.name)).toEqual(['label']);
  });

  it('Cache-Control: no-store bypasses it; no-cache recomputes and refreshes', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pcb');
    const bypass = await infer(`/v2/models/${name}/infer`, body([[7, 8]]), { 'cache-control': 'no-store' });
    expect(bypass.headers.get('x-cache')).toBe('BYPASS');
    await untilHit(`/v2/models/${name}/infer`, body([[7, 8]]));
    const refresh = await infer(`/v2/models/${name}/infer`, body([[7, 8]]), { 'cache-control': 'no-cache' });
    expect(refresh.headers.get('x-cache')).toBe('MISS');
  });

  it('honours the model’s settings: off means BYPASS and nothing stored; TTL reaches KV', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pcs');
    await callJson('PATCH', `/v1/models/${name}`, 200, { body: { cache: { enabled: false } } });
    const before = (await keysOf()).length;
    const off = await infer(`/v2/models/${name}/infer`, body([[9, 9]]));
    expect(off.headers.get('x-cache')).toBe('BYPASS');
    await callJson('PATCH', `/v1/models/${name}`, 200, { body: { cache: { enabled: true, ttl_seconds: 3600 } } });
    await untilHit(`/v2/models/${name}/infer`, body([[9, 9]]));
    const keys = await keysOf();
    expect(keys.length).toBe(before + 1);
    const newest = keys.find((k) => k.expiration && k.expiration > Date.now() / 1000 + 3000);
    expect(newest).toBeDefined();
    expect(newest!.expiration!).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3600);
  });

  it('answers a hot key from the isolate without KV, and refills the isolate from KV until the entry expires', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pcm');
    const before = new Set((await keysOf()).map((k) => k.name));
    const first = await infer(`/v2/models/${name}/infer`, body([[2, 2]]));
    expect(first.headers.get('x-cache')).toBe('MISS');
    // The isolate keeps the answer at once; KV gets it after the response.
    expect((await infer(`/v2/models/${name}/infer`, body([[2, 2]]))).headers.get('x-cache')).toBe('HIT');
    // KV entries carry their expiry, so a copy read back into an isolate expires with them.
    let stored: Awaited<ReturnType<typeof keysOf>> = [];
    for (let i = 0; i < 50 && stored.length === 0; i++) {
      stored = (await keysOf()).filter((k) => !before.has(k.name));
      if (stored.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(stored).toHaveLength(1);
    expect((stored[0]!.metadata as any).expires_at).toBeGreaterThan(Date.now());

    // Gone from the isolate: read from KV and kept again.
    predictionMemory.clear();
    const fromKv = await infer(`/v2/models/${name}/infer`, body([[2, 2]]));
    expect(fromKv.headers.get('x-cache')).toBe('HIT');
    expect(predictionMemory.stats().entries).toBeGreaterThan(0);

    // Gone from KV too, but still in the isolate: a hit without a KV read.
    await env.CACHE.delete(stored[0]!.name);
    expect((await infer(`/v2/models/${name}/infer`, body([[2, 2]]))).headers.get('x-cache')).toBe('HIT');

    // Gone from both: computed again.
    predictionMemory.clear();
    expect((await infer(`/v2/models/${name}/infer`, body([[2, 2]]))).headers.get('x-cache')).toBe('MISS');
  });
});
