import type { AliasGuard, AliasRollback } from '../storage/schema';
import { DEFAULT_MIN_FEEDBACK, type Scorecard } from './scorecard';

/*
 * The guard: a route other than the first that has served at least `min_requests` through the
 * alias in the window and breaks a limit sends the alias back to its first route. Errors are
 * 4xx and 5xx answers, as in the model's stats (a candidate that refuses inputs the first
 * route takes is failing its callers); p99 is read from the latency histogram; the accuracy
 * drop is the first route's accuracy minus the route's, from feedback, once each side has
 * `min_feedback` rows of it (classifiers only).
 */

export type Breach = AliasRollback['breaches'][number];

export const DEFAULT_GUARD_WINDOW_MINUTES = 60;

export function breaches(card: Scorecard, guard: AliasGuard): Breach[] {
  const found: Breach[] = [];
  const first = card.routes[0];
  const minFeedback = guard.min_feedback ?? DEFAULT_MIN_FEEDBACK;
  for (const route of card.routes.slice(1)) {
    if (route.weight <= 0 || route.requests < guard.min_requests) continue;
    const breach = (limit: string, value: number, threshold: number) =>
      found.push({ route: route.route, version: route.version, limit, value, threshold });
    if (guard.max_error_rate !== undefined && route.errorRate !== null && route.errorRate > guard.max_error_rate) {
      breach('max_error_rate', route.errorRate, guard.max_error_rate);
    }
    const p99 = route.latencyMs.p99;
    if (guard.max_p99_ms !== undefined && p99 !== null && p99 > guard.max_p99_ms) {
      breach('max_p99_ms', p99, guard.max_p99_ms);
    }
    const mine = route.quality;
    const theirs = first?.quality;
    if (
      guard.max_accuracy_drop !== undefined &&
      mine?.accuracy != null &&
      theirs?.accuracy != null &&
      mine.count >= minFeedback &&
      theirs.count >= minFeedback
    ) {
      const drop = theirs.accuracy - mine.accuracy;
      if (drop > guard.max_accuracy_drop) breach('max_accuracy_drop', drop, guard.max_accuracy_drop);
    }
  }
  return found;
}

/** Whether every route beyond the first that takes traffic has served enough to be judged. */
export function judged(card: Scorecard, guard: AliasGuard): boolean {
  return card.routes.slice(1).every((route) => route.weight <= 0 || route.requests >= guard.min_requests);
}
