/*
 * Failures of the platform's own stores: D1, R2, KV and Queues not answering. They are nobody's
 * fault that a retry cannot cure, so the API answers them 503 with Retry-After (http/errors.ts)
 * rather than 500. Only the shapes workerd gives such failures are recognised; a query that is
 * wrong (syntax, a constraint, a bad argument) stays a bug and answers 500.
 */

export type Store = 'D1' | 'R2' | 'KV' | 'Queues';

/** D1 messages (`D1_ERROR: Network connection lost.`) that come from bad SQL, not an outage. */
const SQL_BUG = /SQLITE_(ERROR|CONSTRAINT|MISMATCH|RANGE|TOOBIG)|constraint failed|D1_TYPE_ERROR/;
/** R2 (`put: We encountered an internal error. Please try again. (10001)`): internal, unavailable, too busy. */
const R2_OUTAGE = /^[a-zA-Z]+: .* \((10001|10043|10058)\)$/s;
/** KV (`KV GET failed: 503 Service Unavailable`): server-side statuses only. */
const KV_OUTAGE = /^KV [A-Z_]+ failed: (5\d\d|429)\b/;
/** Queues (`Queue send failed: Service Unavailable`, `Unknown Internal Error (15000)`). */
const QUEUE_OUTAGE = /^Queue send(Batch)? failed\b|\(15000\)$/;

function messageOf(err: unknown): string | undefined {
  return err instanceof Error ? err.message : undefined;
}

/** The store whose outage `err` is, looking through wrappers (drizzle's DrizzleQueryError). */
export function storeOutage(err: unknown, depth = 0): Store | undefined {
  const message = messageOf(err);
  if (message === undefined || depth > 3) return undefined;
  if (/^D1[_ ]/.test(message)) return SQL_BUG.test(message) ? undefined : 'D1';
  if (R2_OUTAGE.test(message)) return 'R2';
  if (KV_OUTAGE.test(message)) return 'KV';
  if (QUEUE_OUTAGE.test(message)) return 'Queues';
  return storeOutage((err as Error).cause, depth + 1);
}
