/*
 * A small per-isolate LRU of strings with expiry, bounded by the total length of keys and values
 * (a prediction's key is often a third of its entry). It sits in
 * front of KV for predictions: a hot key answered from the isolate costs no KV round trip.
 * Prediction keys are content-addressed (version + inputs), so an entry can never be stale;
 * the expiry only keeps the model's TTL meaningful.
 */
interface Entry {
  value: string;
  expiresAt: number;
  chars: number;
}

export class MemoryTier {
  private readonly entries = new Map<string, Entry>();
  private size = 0;

  constructor(
    readonly maxChars: number,
    /** Larger values are left to KV alone: one big answer must not flush the hot ones. */
    readonly maxEntryChars: number,
  ) {}

  get(key: string, now: number): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) {
      this.size -= entry.chars;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: string, expiresAt: number): void {
    if (value.length > this.maxEntryChars) return;
    this.delete(key);
    const chars = key.length + value.length;
    this.entries.set(key, { value, expiresAt, chars });
    this.size += chars;
    for (const [oldest, entry] of this.entries) {
      if (this.size <= this.maxChars) break;
      this.entries.delete(oldest);
      this.size -= entry.chars;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.size -= entry.chars;
  }

  clear(): void {
    this.entries.clear();
    this.size = 0;
  }

  stats(): { entries: number; chars: number } {
    return { entries: this.entries.size, chars: this.size };
  }
}
