import { DurableObject } from 'cloudflare:workers';
import { gcra, type RateDecision } from './gcra';

/**
 * One object per budget (workspace, caller, route class): the object runs one request at a
 * time, so the count is exact however many isolates share the budget. The TAT is kept in the
 * object's storage so an eviction does not hand out a fresh budget.
 */
export class RateLimiter extends DurableObject {
  private tat: number | undefined;
  private loaded = false;

  /** Admits up to `wanted` requests of this budget (see gcra). */
  hit(limit: number, windowSeconds: number, wanted = 1): RateDecision {
    if (!this.loaded) {
      this.tat = this.ctx.storage.kv.get<number>('tat');
      this.loaded = true;
    }
    const { decision, tat } = gcra(this.tat, Date.now(), limit, windowSeconds * 1000, wanted);
    if (decision.allowed) {
      this.tat = tat;
      this.ctx.storage.kv.put('tat', tat);
    }
    return decision;
  }
}
