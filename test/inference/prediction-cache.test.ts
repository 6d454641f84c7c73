import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  callJson,
  fixture,
  infer,
  locationCache,
  locationRequest,
  newModel,
  regressorKey as keyOf,
  testWorker,
  uploadRaw,
} from '../helpers';

afterEach(() => vi.restoreAllMocks());

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

/** Polls until `check` answers something (writes after a response land a moment later). */
async function until<T>(check: () => Promise<T | null | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = await check();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('never happened');
}

const untilKeys = (n: number) => until(async () => ((await keysOf()).length >= n ? keysOf() : null));

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

  it('honours the model’s settings: off means BYPASS and nothing stored; a shared model’s TTL reaches KV', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pcs');
    await callJson('PATCH', `/v1/models/${name}`, 200, { body: { cache: { enabled: false } } });
    const before = (await keysOf()).length;
    const off = await infer(`/v2/models/${name}/infer`, body([[9, 9]]));
    expect(off.headers.get('x-cache')).toBe('BYPASS');
    await callJson('PATCH', `/v1/models/${name}`, 200, {
      body: { cache: { enabled: true, ttl_seconds: 3600, shared: true } },
    });
    await untilHit(`/v2/models/${name}/infer`, body([[9, 9]]));
    const keys = await untilKeys(before + 1);
    const newest = keys.find((k) => k.expiration && k.expiration > Date.now() / 1000 + 3000);
    expect(newest).toBeDefined();
    expect(newest!.expiration!).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3600);
  });

  it('keeps a model’s predictions out of KV unless the model shares them', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pcl');
    const model = await callJson('GET', `/v1/models/${name}`, 200);
    expect(model.cache).toMatchObject({ enabled: true, shared: false, shared_timeout_ms: 25 });
    const kvReads = vi.spyOn(env.CACHE, 'getWithMetadata');
    const kvWrites = vi.spyOn(env.CACHE, 'put');
    expect((await infer(`/v2/models/${name}/infer`, body([[4, 4]]))).headers.get('x-cache')).toBe('MISS');
    await untilHit(`/v2/models/${name}/infer`, body([[4, 4]]));
    expect(kvReads).not.toHaveBeenCalled();
    expect(kvWrites).not.toHaveBeenCalled();
  });

  it('answers from the nearest tier: the isolate, then this location’s Cache API, then KV when shared', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'pcm');
    await callJson('PATCH', `/v1/models/${name}`, 200, { body: { cache: { shared: true } } });
    const request = body([[2, 2]]);
    const path = `/v2/models/${name}/infer`;
    const tierOf = (res: Response) => /cache;dur=[\d.]+;desc="(\w+)"/.exec(res.headers.get('server-timing') ?? '')?.[1];

    const first = testWorker();
    const miss = await infer(path, request, undefined, first);
    expect([miss.headers.get('x-cache'), tierOf(miss)]).toEqual(['MISS', 'miss']);
    const again = await infer(path, request, undefined, first);
    expect([again.headers.get('x-cache'), tierOf(again)]).toEqual(['HIT', 'memory']);

    // Another isolate at this location: the Cache API copy, once the write after the response landed.
    const key = await keyOf(name, [2, 2]);
    await until(async () => (await locationCache()).match(locationRequest(key)));
    await until(async () => (await env.CACHE.getWithMetadata(key)).value);
    const neighbour = await infer(path, request, undefined, testWorker());
    expect([neighbour.headers.get('x-cache'), tierOf(neighbour)]).toEqual(['HIT', 'location']);

    // Another location (no Cache API copy): KV, with its expiry kept for the isolate's copy.
    await (await locationCache()).delete(locationRequest(key));
    const { metadata } = await env.CACHE.getWithMetadata<{ expires_at: number }>(key);
    expect(metadata!.expires_at).toBeGreaterThan(Date.now());
    const far = testWorker();
    const fromKv = await infer(path, request, undefined, far);
    expect([fromKv.headers.get('x-cache'), tierOf(fromKv)]).toEqual(['HIT', 'kv']);
    expect(far.services.predictionCache.memory.stats().entries).toBe(1);

    // Nowhere: computed again.
    await env.CACHE.delete(key);
    await until(async () => (await locationCache()).match(locationRequest(key)));
    await (await locationCache()).delete(locationRequest(key));
    const gone = await infer(path, request, undefined, testWorker());
    expect(gone.headers.get('x-cache')).toBe('MISS');
  });
});
