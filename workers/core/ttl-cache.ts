/**
 * Loads kept per isolate for a short time: concurrent callers of one key share one load, a
 * failed load is never kept, and past `maxEntries` the entry stored longest ago goes first so a
 * long-lived isolate's memory stays bounded.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();

  constructor(private readonly maxEntries: number) {}

  /** The kept value of `key`, else `load()` kept for `ttlMs` (not at all when 0). */
  get(key: string, ttlMs: number, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (hit) this.entries.delete(key);
    const value = load();
    if (ttlMs <= 0) return value;
    this.entries.set(key, { value, expires: now + ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  deleteWhere(test: (key: string) => boolean): void {
    for (const key of this.entries.keys()) if (test(key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
