/*
 * Generic cell rate algorithm: `limit` requests per `windowMs`, spread evenly, with a burst of
 * the whole limit. The only state is the theoretical arrival time (TAT) of the next request,
 * so there is no burst of twice the limit at a window boundary as with fixed windows.
 */

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests still allowed now, after this decision's grant. */
  remaining: number;
  /** Seconds until the full budget is available again. */
  resetSeconds: number;
  /** Seconds until the next request would be allowed (0 when this one was). */
  retryAfterSeconds: number;
  /** How many requests this decision admits: 1 to `wanted`, or 0 when refused. */
  granted: number;
}

// Float sums of windowMs / limit can overshoot the window by a rounding error.
const EPSILON_MS = 1e-6;

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * Admits up to `wanted` requests at `now` (as many as fit, at least one or none): a caller that
 * counts ahead for its isolate asks for several at once.
 */
export function gcra(
  tat: number | undefined,
  now: number,
  limit: number,
  windowMs: number,
  wanted = 1,
): { decision: RateDecision; tat: number } {
  const interval = windowMs / limit;
  const base = Math.max(tat ?? now, now);
  const fits = Math.floor((now + windowMs - base + EPSILON_MS) / interval);
  const granted = Math.min(wanted, fits);
  if (granted < 1) {
    return {
      tat: base,
      decision: {
        allowed: false,
        limit,
        remaining: 0,
        resetSeconds: seconds(base - now),
        retryAfterSeconds: Math.max(1, seconds(base + interval - windowMs - now)),
        granted: 0,
      },
    };
  }
  const next = base + granted * interval;
  return {
    tat: next,
    decision: {
      allowed: true,
      limit,
      remaining: Math.max(0, Math.floor((windowMs - (next - now) + EPSILON_MS) / interval)),
      resetSeconds: seconds(next - now),
      retryAfterSeconds: 0,
      granted,
    },
  };
}
