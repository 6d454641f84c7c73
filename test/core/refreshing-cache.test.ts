import { describe, expect, it } from 'vitest';
import { DomainError, notFound } from '../../workers/core/errors';
import { RefreshingCache } from '../../workers/core/refreshing-cache';

/** A clock the test moves, a load it controls, and the work a cache leaves for after a response. */
function harness(policy = { refreshAfterMs: 5_000, staleLimitMs: 10_000 }) {
  let now = 1_000_000;
  const cache = new RefreshingCache<string>(
    100,
    (err) => err instanceof DomainError,
    () => now,
  );
  const deferred: Promise<unknown>[] = [];
  const refreshErrors: unknown[] = [];
  const hooks = {
    defer: (w: Promise<unknown>) => void deferred.push(w),
    onRefreshError: (e: unknown) => void refreshErrors.push(e),
  };
  let loads = 0;
  let answer: () => Promise<string> = async () => `v${loads}`;
  const load = () => {
    loads += 1;
    return answer();
  };
  return {
    cache,
    get: () => cache.get('k', policy, load, hooks),
    advance: (ms: number) => (now += ms),
    loads: () => loads,
    answer: (next: () => Promise<string>) => (answer = next),
    settle: () => Promise.all(deferred.splice(0)),
    refreshErrors,
  };
}

const never = () => new Promise<string>(() => {});

describe('RefreshingCache', () => {
  it('serves its copy without loading while it is fresh', async () => {
    const h = harness();
    expect(await h.get()).toBe('v1');
    h.advance(4_999);
    expect(await h.get()).toBe('v1');
    expect(h.loads()).toBe(1);
  });

  it('past the refresh interval, answers from the copy while one refresh runs, awaited by no request', async () => {
    const h = harness();
    await h.get();
    h.advance(6_000);
    // The refresh never answers: every request is still served, at once, from the copy.
    h.answer(never);
    const answers = await Promise.all(Array.from({ length: 200 }, () => h.get()));
    expect(answers).toEqual(Array(200).fill('v1'));
    expect(h.loads()).toBe(2); // the first load and one refresh, for 200 requests
    expect(h.cache.stats().refreshes).toBe(1);
  });

  it('takes the refreshed value once it lands, and counts its age from when the refresh began', async () => {
    const h = harness();
    await h.get();
    h.advance(6_000);
    expect(await h.get()).toBe('v1');
    await h.settle();
    expect(await h.get()).toBe('v2');
    h.advance(4_999);
    expect(await h.get()).toBe('v2');
    expect(h.loads()).toBe(2);
  });

  it('never serves a copy older than the stale limit: the request waits for the load', async () => {
    const h = harness();
    await h.get();
    h.advance(10_001);
    h.answer(async () => 'fresh');
    expect(await h.get()).toBe('fresh');
    expect(h.cache.stats().refreshes).toBe(0);
  });

  it('makes one load for many concurrent first requests, each watching it with its own timer', async () => {
    const h = harness();
    let release!: (v: string) => void;
    h.answer(() => new Promise<string>((resolve) => (release = resolve)));
    const all = Promise.all(Array.from({ length: 200 }, () => h.get()));
    await new Promise((r) => setTimeout(r, 5));
    release('shared');
    expect(await all).toEqual(Array(200).fill('shared'));
    expect(h.loads()).toBe(1);
  });

  it('hands a first load’s refusal to every request that waited on it, and keeps nothing', async () => {
    const h = harness();
    h.answer(async () => {
      throw notFound('gone');
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => h.get()));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'gone')).toBe(true);
    expect(h.cache.stats().entries).toBe(0);
  });

  it('drops the copy when a refresh is refused (a revoked key), keeps it when the store fails', async () => {
    const refused = harness();
    await refused.get();
    refused.advance(6_000);
    refused.answer(async () => {
      throw notFound('revoked');
    });
    expect(await refused.get()).toBe('v1');
    await refused.settle();
    await expect(refused.get()).rejects.toThrow('revoked');

    const outage = harness();
    await outage.get();
    outage.advance(6_000);
    outage.answer(async () => {
      throw new Error('D1_ERROR: Network connection lost.');
    });
    expect(await outage.get()).toBe('v1');
    await outage.settle();
    expect(outage.refreshErrors).toHaveLength(1);
    // Still served; the next request tries the refresh again.
    expect(await outage.get()).toBe('v1');
    expect(outage.cache.stats().refreshes).toBe(2);
  });

  it('does not keep what a load read before a change forgot it', async () => {
    const h = harness();
    let release!: (v: string) => void;
    h.answer(() => new Promise<string>((resolve) => (release = resolve)));
    const first = h.get();
    h.cache.forget(() => true);
    release('before the change');
    expect(await first).toBe('before the change');
    expect(h.cache.stats().entries).toBe(0);
  });

  it('keeps a read made outside get under a key learnt later, unless a change or a newer copy came first', async () => {
    const policy = { refreshAfterMs: 5_000, staleLimitMs: 10_000 };
    const h = harness(policy);
    expect(h.cache.holds('k', policy)).toBe(false);
    const remember = h.cache.beginRead();
    h.advance(100);
    remember('k', 'read ahead');
    expect(h.cache.holds('k', policy)).toBe(true);
    expect(await h.get()).toBe('read ahead');
    expect(h.loads()).toBe(0);
    // Its age counts from when the read began.
    h.advance(9_901);
    expect(h.cache.holds('k', policy)).toBe(false);

    const beforeChange = h.cache.beginRead();
    h.cache.forget(() => true);
    beforeChange('k', 'stale');
    expect(h.cache.holds('k', policy)).toBe(false);

    const older = h.cache.beginRead();
    h.advance(10);
    expect(await h.get()).toBe('v1');
    older('k', 'older read');
    expect(await h.get()).toBe('v1');
  });

  it('tells whether a key is being read', async () => {
    const h = harness();
    let release!: (v: string) => void;
    h.answer(() => new Promise<string>((resolve) => (release = resolve)));
    expect(h.cache.reading('k')).toBe(false);
    const first = h.get();
    expect(h.cache.reading('k')).toBe(true);
    release('v');
    await first;
    expect(h.cache.reading('k')).toBe(false);
  });
});
