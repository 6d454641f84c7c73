import { DurableObject } from 'cloudflare:workers';

/**
 * One object per budget (workspace, caller, route class): the global account of what every
 * isolate admitted. Isolates decide locally and report here after their responses; the answer
 * (the budget's theoretical arrival time, see gcra.ts) tells them how far everyone got, so an
 * isolate refuses locally once the budget is spent anywhere. The TAT is kept in storage so an
 * eviction does not hand out a fresh budget.
 */
export class RateLimiter extends DurableObject {
  private tat: number | undefined;
  private loaded = false;

  /**
   * Counts `used` requests already admitted somewhere, and answers the budget's TAT after them.
   * Admissions beyond the limit still count (an isolate admitted them before it knew), up to
   * two windows ahead, so the budget pays them back before anyone is admitted again.
   */
  record(limit: number, windowSeconds: number, used: number): { tat: number } {
    if (!this.loaded) {
      this.tat = this.ctx.storage.kv.get<number>('tat');
      this.loaded = true;
    }
    const now = Date.now();
    const windowMs = windowSeconds * 1000;
    const base = Math.max(this.tat ?? now, now);
    this.tat = Math.min(base + (used * windowMs) / limit, now + 2 * windowMs);
    this.ctx.storage.kv.put('tat', this.tat);
    return { tat: this.tat };
  }
}
