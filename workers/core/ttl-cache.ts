/**
 * Loads kept per isolate for a short time. Past `maxEntries` the entry stored longest ago goes
 * first, so a long-lived isolate's memory stays bounded; a failed load is never kept.
 *
 * Only settled values are shared, never a load in flight: workerd binds a pending promise to the
 * request that started it, and another request awaiting it can be cancelled as hung ("the
 * Workers runtime canceled this request because it detected that your Worker's code had hung").
 * Concurrent misses of one key therefore each load, and the first to finish is kept. A load that
 * began before a `deleteWhere` or `clear` is not kept: it may have read what the change replaced.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private generation = 0;

  constructor(private readonly maxEntries: number) {}

  /** The kept value of `key` when it is fresh, without waiting for anything. */
  peek(key: string, now = Date.now()): { value: V } | undefined {
    const hit = this.entries.get(key);
    return hit && hit.expires > now ? { value: hit.value } : undefined;
  }

  /** The kept value of `key`, else `load()`, kept for `ttlMs` (not at all when 0). */
  async get(key: string, ttlMs: number, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (hit) this.entries.delete(key);
    const generation = this.generation;
    const value = await load();
    if (ttlMs > 0 && generation === this.generation && !this.entries.has(key)) {
      this.entries.set(key, { value, expires: now + ttlMs });
      this.dropOldest(Date.now());
    }
    return value;
  }

  /** Expired entries at the front go (entries are stored in expiry order), then any over the bound. */
  private dropOldest(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expires > now && this.entries.size <= this.maxEntries) return;
      this.entries.delete(key);
    }
  }

  deleteWhere(test: (key: string) => boolean): void {
    this.generation += 1;
    for (const key of this.entries.keys()) if (test(key)) this.entries.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
