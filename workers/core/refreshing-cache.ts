/*
 * Copies of what D1 said, kept per isolate and served while they refresh in the background
 * (stale-while-revalidate), so a warm request never waits for D1 however far away it is.
 *
 * - younger than `refreshAfterMs`: served;
 * - younger than `staleLimitMs`: served, and one background refresh starts (at most one per key
 *   at a time, kept alive by `defer`, awaited by no request);
 * - older, or never read: the request loads it and waits. That bound is the consistency
 *   promise: nothing older than `staleLimitMs` since its read began is ever served.
 *
 * Concurrent first reads of one key make one load. The other requests watch it with their own
 * timer rather than await it: workerd binds a pending promise to the request that started it,
 * and another request awaiting it can be cancelled as hung ("The Workers runtime canceled this
 * request because it detected that your Worker's code had hung").
 *
 * A load that throws a refusal (`isRefusal`: a revoked key, a model that is gone) drops the
 * copy; any other failure of a background refresh (an outage) keeps the copy until its limit.
 */

export interface RefreshPolicy {
  refreshAfterMs: number;
  staleLimitMs: number;
}

export interface RefreshHooks {
  /** Keeps a background refresh alive after the response (ctx.waitUntil). */
  defer: (work: Promise<unknown>) => void;
  /** Told about a background refresh that failed for a reason other than a refusal. */
  onRefreshError?: (err: unknown) => void;
}

interface Entry<V> {
  value: V;
  /** When the read that produced `value` began. */
  readAt: number;
  refreshing: boolean;
}

interface Pending<V> {
  done: boolean;
  failed: boolean;
  value?: V;
  error?: unknown;
}

/** How a watcher of another request's load backs off: 1, 2, 4, 8, then every 8 ms. */
const WATCH_MAX_MS = 8;

export class RefreshingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly pending = new Map<string, Pending<V>>();
  /** Bumped by every forget/clear: a load that began before one is not kept. */
  private generation = 0;
  private counters = { loads: 0, refreshes: 0, hits: 0 };

  constructor(
    private readonly maxEntries: number,
    private readonly isRefusal: (err: unknown) => boolean,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async get(key: string, policy: RefreshPolicy, load: () => Promise<V>, hooks: RefreshHooks): Promise<V> {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry) {
      const age = now - entry.readAt;
      if (age < policy.staleLimitMs) {
        this.counters.hits += 1;
        if (age >= policy.refreshAfterMs && !entry.refreshing) this.refresh(key, entry, load, hooks);
        return entry.value;
      }
      this.entries.delete(key);
    }
    const other = this.pending.get(key);
    if (other) return watch(other);
    return this.loadNow(key, load);
  }

  /** Whether a copy of `key` would be served now without waiting. */
  holds(key: string, policy: RefreshPolicy): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && this.now() - entry.readAt < policy.staleLimitMs;
  }

  /** Whether a request is reading `key` now. */
  reading(key: string): boolean {
    return this.pending.has(key);
  }

  /**
   * Starts a read made outside `get` (one query that answers for a key learnt only later):
   * what it returns stores the value unless a change was forgotten since the read began, or a
   * copy as new is held already.
   */
  beginRead(): (key: string, value: V) => void {
    const generation = this.generation;
    const readAt = this.now();
    return (key, value) => {
      if (generation !== this.generation) return;
      const held = this.entries.get(key);
      if (held && held.readAt >= readAt) return;
      this.store(key, { value, readAt, refreshing: false });
    };
  }

  /** Drops the copies whose key passes `test` (a change made through this isolate). */
  forget(test: (key: string) => boolean): void {
    this.generation += 1;
    for (const key of this.entries.keys()) if (test(key)) this.entries.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  stats(): { entries: number; loads: number; refreshes: number; hits: number } {
    return { entries: this.entries.size, ...this.counters };
  }

  private async loadNow(key: string, load: () => Promise<V>): Promise<V> {
    const state: Pending<V> = { done: false, failed: false };
    this.pending.set(key, state);
    const generation = this.generation;
    const readAt = this.now();
    this.counters.loads += 1;
    try {
      const value = await load();
      state.value = value;
      if (generation === this.generation) this.store(key, { value, readAt, refreshing: false });
      return value;
    } catch (err) {
      state.failed = true;
      state.error = err;
      throw err;
    } finally {
      state.done = true;
      this.pending.delete(key);
    }
  }

  private refresh(key: string, entry: Entry<V>, load: () => Promise<V>, hooks: RefreshHooks): void {
    entry.refreshing = true;
    this.counters.refreshes += 1;
    const generation = this.generation;
    const readAt = this.now();
    const work = (async () => {
      try {
        const value = await load();
        if (generation === this.generation && this.entries.get(key) === entry) {
          this.store(key, { value, readAt, refreshing: false });
        }
      } catch (err) {
        if (this.isRefusal(err)) {
          if (this.entries.get(key) === entry) this.entries.delete(key);
        } else {
          hooks.onRefreshError?.(err);
        }
      } finally {
        entry.refreshing = false;
      }
    })();
    hooks.defer(work);
  }

  private store(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** Another request's load, watched with this request's own timer (see the comment above). */
async function watch<V>(state: Pending<V>): Promise<V> {
  let wait = 1;
  while (!state.done) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(WATCH_MAX_MS, wait * 2);
  }
  if (state.failed) throw state.error;
  return state.value as V;
}
