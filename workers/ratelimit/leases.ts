import type { BudgetPlan } from './budgets';
import type { RateDecision } from './gcra';

/*
 * Asking the budget's Durable Object once per request puts a round trip on every prediction.
 * An isolate that sees a steady stream from one caller instead asks for a few requests at once
 * and spends them locally. The object counts them as used when it grants them, so the limit
 * still holds exactly across isolates: a lease can refuse a little early (tokens granted to one
 * isolate and unspent when it expires), never admit more than the limit.
 *
 * A lease covers about LEASE_SPAN_MS of the caller's observed rate, at most a twentieth of the
 * budget, and lapses after LEASE_TTL_MS. A caller slower than one request per span gets leases
 * of one: a round trip per request and exact remaining counts, as without leases.
 */
const LEASE_SPAN_MS = 100;
const LEASE_TTL_MS = 1000;
const MAX_LEASE = 1000;
const MAX_LEASES = 4096;

export type Admit = (plan: BudgetPlan, wanted: number) => Promise<RateDecision>;

interface Lease {
  limit: number;
  windowSeconds: number;
  /** Granted and not yet spent. */
  tokens: number;
  size: number;
  grantedAt: number;
  expires: number;
  /** The object's answer at the grant: what remains beyond this lease, when it resets. */
  remaining: number;
  resetSeconds: number;
}

const leases = new Map<string, Lease>();
/** Budgets whose lease a request of this isolate is renewing now. */
const renewing = new Set<string>();

function spend(lease: Lease): RateDecision {
  lease.tokens -= 1;
  return {
    allowed: true,
    limit: lease.limit,
    remaining: lease.remaining + lease.tokens,
    resetSeconds: lease.resetSeconds,
    retryAfterSeconds: 0,
    granted: 1,
  };
}

function usable(lease: Lease | undefined, plan: BudgetPlan, now: number): lease is Lease {
  return (
    lease !== undefined &&
    lease.tokens > 0 &&
    lease.expires > now &&
    lease.limit === plan.limit &&
    lease.windowSeconds === plan.windowSeconds
  );
}

/** Requests to ask for next: the rate the last lease was spent at, over one span. */
function nextSize(previous: Lease | undefined, plan: BudgetPlan, now: number): number {
  const cap = Math.min(MAX_LEASE, Math.max(1, Math.floor(plan.limit / 20)));
  if (!previous || previous.tokens > 0) return 1;
  const elapsed = Math.max(1, now - previous.grantedAt);
  return Math.min(cap, Math.max(1, Math.floor((previous.size * LEASE_SPAN_MS) / elapsed)));
}

/**
 * Counts one request against `plan`, from this isolate's lease when it holds one. While another
 * request renews the lease, this one asks the object for itself rather than awaiting that call:
 * a promise pending in one request can hang another that awaits it (see core/ttl-cache.ts).
 */
export async function takeFromLease(plan: BudgetPlan, admit: Admit): Promise<RateDecision> {
  const now = Date.now();
  const lease = leases.get(plan.key);
  if (usable(lease, plan, now)) return spend(lease);
  if (renewing.has(plan.key)) return admit(plan, 1);
  renewing.add(plan.key);
  try {
    const decision = await admit(plan, nextSize(lease, plan, now));
    if (!decision.allowed) return decision;
    const granted: Lease = {
      limit: plan.limit,
      windowSeconds: plan.windowSeconds,
      tokens: decision.granted,
      size: decision.granted,
      grantedAt: now,
      expires: now + LEASE_TTL_MS,
      remaining: decision.remaining,
      resetSeconds: decision.resetSeconds,
    };
    leases.delete(plan.key);
    leases.set(plan.key, granted);
    if (leases.size > MAX_LEASES) leases.delete(leases.keys().next().value!);
    return spend(granted);
  } finally {
    renewing.delete(plan.key);
  }
}
