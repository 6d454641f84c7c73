/*
 * Generic cell rate algorithm: `limit` requests per `windowMs`, spread evenly, with a burst of
 * the whole limit. The only state is the theoretical arrival time (TAT) of the next request,
 * so there is no burst of twice the limit at a window boundary as with fixed windows.
 */

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the full budget is available again. */
  resetSeconds: number;
  /** Seconds until the next request would be allowed (0 when this one was). */
  retryAfterSeconds: number;
}

// Float sums of windowMs / limit can overshoot the window by a rounding error.
const EPSILON_MS = 1e-6;

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

export function gcra(
  tat: number | undefined,
  now: number,
  limit: number,
  windowMs: number,
): { decision: RateDecision; tat: number } {
  const interval = windowMs / limit;
  const base = Math.max(tat ?? now, now);
  const next = base + interval;
  if (next - now > windowMs + EPSILON_MS) {
    return {
      tat: base,
      decision: {
        allowed: false,
        limit,
        remaining: 0,
        resetSeconds: seconds(base - now),
        retryAfterSeconds: Math.max(1, seconds(next - windowMs - now)),
      },
    };
  }
  return {
    tat: next,
    decision: {
      allowed: true,
      limit,
      remaining: Math.max(0, Math.floor((windowMs - (next - now) + EPSILON_MS) / interval)),
      resetSeconds: seconds(next - now),
      retryAfterSeconds: 0,
    },
  };
}
