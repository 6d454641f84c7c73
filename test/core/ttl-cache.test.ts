import { afterEach, describe, expect, it, vi } from 'vitest';
import { TtlCache } from '../../workers/core/ttl-cache';

afterEach(() => vi.restoreAllMocks());

describe('TtlCache', () => {
  it('keeps a settled value for the TTL, and never hands out a load in flight', async () => {
    const cache = new TtlCache<number>(10);
    let loads = 0;
    const load = async () => ++loads;
    // Concurrent misses each load: a pending promise shared across requests can hang the waiter.
    const [a, b] = await Promise.all([cache.get('k', 1000, load), cache.get('k', 1000, load)]);
    expect([a, b, loads]).toEqual([1, 2, 2]);
    // The first to finish is kept and served until it expires.
    expect(await cache.get('k', 1000, load)).toBe(1);
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 1001);
    expect(await cache.get('k', 1000, load)).toBe(3);
  });

  it('does not keep a load that began before a change dropped its key', async () => {
    const cache = new TtlCache<string>(10);
    let release!: (v: string) => void;
    const slow = cache.get('k', 1000, () => new Promise<string>((r) => (release = r)));
    cache.deleteWhere((k) => k === 'k');
    release('before the change');
    expect(await slow).toBe('before the change');
    expect(await cache.get('k', 1000, async () => 'after the change')).toBe('after the change');
    expect(cache.size).toBe(1);
  });

  it('never keeps a failed load, and keeps nothing with a TTL of 0', async () => {
    const cache = new TtlCache<string>(10);
    await expect(cache.get('k', 1000, () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await Promise.resolve();
    expect(cache.size).toBe(0);
    expect(await cache.get('k', 1000, async () => 'up')).toBe('up');
    await cache.get('other', 0, async () => 'x');
    expect(cache.size).toBe(1);
  });

  it('drops the entry stored longest ago past its bound, and entries on request', async () => {
    const cache = new TtlCache<string>(2);
    for (const k of ['a', 'b', 'c']) await cache.get(k, 1000, async () => k);
    expect(cache.size).toBe(2);
    let reloaded = false;
    await cache.get('a', 1000, async () => ((reloaded = true), 'a'));
    expect(reloaded).toBe(true);
    cache.deleteWhere((k) => k === 'c');
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
