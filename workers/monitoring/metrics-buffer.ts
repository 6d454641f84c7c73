import type { Counters } from './counters';
import { emptyCounters } from './counters';

/*
 * Counts kept in the isolate and written to D1 in batches (one upsert per model version and
 * minute, not one write per request). A flush takes what is buffered and clears it, so
 * concurrent flushes never write the same counts twice. Counts of an isolate that is evicted
 * before it flushes are lost: at most METRICS_FLUSH_SECONDS of its traffic.
 */

export interface MetricKey {
  workspaceId: string;
  model: string;
  version: number;
  minute: number;
}

export class MetricsBuffer {
  private entries = new Map<string, { key: MetricKey; counters: Counters }>();
  private since = 0;

  add(key: MetricKey, update: (counters: Counters) => void): void {
    const id = `${key.workspaceId}\0${key.model}\0${key.version}\0${key.minute}`;
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { key, counters: emptyCounters() };
      this.entries.set(id, entry);
    }
    if (this.since === 0) this.since = Date.now();
    update(entry.counters);
  }

  /** True when the oldest buffered count has waited `seconds` (or there are many keys). */
  due(seconds: number, now = Date.now()): boolean {
    return this.entries.size > 0 && (now - this.since >= seconds * 1000 || this.entries.size >= 200);
  }

  /** Drops what is buffered for a model (it was purged: its name may be taken again). */
  discard(workspaceId: string, model: string): void {
    for (const [id, { key }] of this.entries) {
      if (key.workspaceId === workspaceId && key.model === model) this.entries.delete(id);
    }
    if (this.entries.size === 0) this.since = 0;
  }

  take(): { key: MetricKey; counters: Counters }[] {
    const taken = [...this.entries.values()];
    this.entries = new Map();
    this.since = 0;
    return taken;
  }
}
