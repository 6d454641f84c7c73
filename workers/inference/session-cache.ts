import type { LoadedModel } from '../runtime/model-session';

/*
 * Loaded models per isolate, least recently used first out, bounded by the models' file sizes
 * plus a fixed overhead each (a proxy for the WASM heap they occupy). A cold model is loaded
 * once however many requests ask for it at the same moment; a session is released only when no
 * request is using it.
 */

/**
 * What a session holds beyond its file (graph, kernels, buffers), added to each entry's size so a
 * stream of tiny models cannot pile up thousands of sessions inside the byte bound.
 */
export const SESSION_OVERHEAD_BYTES = 512 * 1024;

/** How often a request waiting for another's load of the same model looks again. */
const LOAD_POLL_MS = 2;

interface Entry {
  size: number;
  loading: Promise<LoadedModel>;
  loaded?: LoadedModel;
  failed?: unknown;
  active: number;
  evicted: boolean;
}

export interface SessionCacheStats {
  loads: number;
  hits: number;
  evictions: number;
  entries: number;
  bytes: number;
}

export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private counters = { loads: 0, hits: 0, evictions: 0 };

  constructor(readonly maxBytes: number) {}

  stats(): SessionCacheStats {
    return { ...this.counters, entries: this.entries.size, bytes: this.bytes };
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Whether the model under `key` is loaded and ready now (a prediction needs no load). */
  isLoaded(key: string): boolean {
    return this.entries.get(key)?.loaded !== undefined;
  }

  /** Runs `use` with the model under `key`, loading it first if no entry holds it. */
  async with<T>(
    key: string,
    size: number,
    load: () => Promise<LoadedModel>,
    use: (model: LoadedModel) => Promise<T>,
  ): Promise<T> {
    let entry = this.entries.get(key);
    const mine = !entry;
    if (entry) {
      this.counters.hits += 1;
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      this.counters.loads += 1;
      entry = this.insert(key, size, load());
    }
    entry.active += 1;
    try {
      const model = mine ? await entry.loading : await this.loadedBy(entry);
      return await use(model);
    } finally {
      entry.active -= 1;
      this.releaseIfIdle(entry);
    }
  }

  /**
   * Another request's load, watched with this request's own timer rather than awaited: workerd
   * can cancel a request that awaits a promise pending in another (see core/ttl-cache.ts).
   */
  private async loadedBy(entry: Entry): Promise<LoadedModel> {
    for (;;) {
      if (entry.loaded) return entry.loaded;
      if (entry.failed !== undefined) throw entry.failed;
      await new Promise((resolve) => setTimeout(resolve, LOAD_POLL_MS));
    }
  }

  /** Keeps a model loaded elsewhere (an upload's validation) for the requests that follow. */
  adopt(key: string, size: number, model: LoadedModel): void {
    if (this.entries.has(key)) {
      void model.session.release();
      return;
    }
    this.insert(key, size, Promise.resolve(model));
  }

  /**
   * Evicts every entry without resetting the counters: sessions are counted by file size plus
   * a fixed overhead, yet one can hold far more heap than that (a 230 KB chain of 10,000 nodes filled a 65 MiB
   * heap), so a load that runs out of memory frees them all and tries again.
   */
  evictAll(): number {
    const keys = [...this.entries.keys()];
    for (const key of keys) this.evict(key);
    return keys.length;
  }

  /** Drops every entry (used when the configured bound changes and by tests). */
  clear(): void {
    for (const key of [...this.entries.keys()]) this.evict(key);
    this.counters = { loads: 0, hits: 0, evictions: 0 };
  }

  private insert(key: string, size: number, loading: Promise<LoadedModel>): Entry {
    const entry: Entry = { size: size + SESSION_OVERHEAD_BYTES, loading, active: 0, evicted: false };
    this.entries.set(key, entry);
    this.bytes += entry.size;
    loading.then(
      (model) => {
        entry.loaded = model;
        this.releaseIfIdle(entry);
      },
      (err: unknown) => {
        entry.failed = err;
        // A failed load must not stay cached: the next request tries again.
        if (this.entries.get(key) === entry) this.remove(key, entry);
      },
    );
    this.shrink(key);
    return entry;
  }

  /** Evicts least recently used entries until the bound holds; `keep` is never evicted. */
  private shrink(keep: string): void {
    for (const key of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) return;
      if (key !== keep) this.evict(key);
    }
  }

  private evict(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.remove(key, entry);
    entry.evicted = true;
    this.counters.evictions += 1;
    this.releaseIfIdle(entry);
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.size;
  }

  private releaseIfIdle(entry: Entry): void {
    if (entry.evicted && entry.active === 0 && entry.loaded) {
      const { session } = entry.loaded;
      entry.loaded = undefined;
      void session.release();
    }
  }
}
