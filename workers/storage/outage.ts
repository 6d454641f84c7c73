/*
 * Failures of the platform's own stores: D1, R2, KV, Queues and the Cache API not answering.
 * They are nobody's fault that a retry cannot cure, so the API answers them 503 with
 * Retry-After (http/errors.ts) rather than 500. Only the shapes the runtime gives such failures
 * are recognised; a query that is wrong (syntax, a constraint, a bad argument) or a limit (a
 * queue message over 128 KB) stays a bug and answers 500.
 *
 * The shapes are the ones the real local bindings throw when a store's storage is gone (captured
 * in test/faults/outages.json by test/node/store-outages.ts, which checks them on every run),
 * plus the ones Cloudflare documents for production (`D1_ERROR: Network connection lost.`, R2's
 * 10001, `Unknown Internal Error (15000)`).
 */

/** Which store failed; `UNNAMED` when workerd's error does not say (see `transportFailure`). */
export type Store = 'D1' | 'R2' | 'KV' | 'Queues' | typeof UNNAMED;

/**
 * The bindings whose failures workerd reports without naming them: they have no JavaScript
 * wrapper of their own (D1's leaves its frames in the stack), so the error carries nothing but
 * workerd's generic message.
 */
export const UNNAMED = 'R2, KV, Queues or the Cache API';

/** D1 messages (`D1_ERROR: Network connection lost.`) that come from bad SQL, not an outage. */
const SQL_BUG = /SQLITE_(ERROR|CONSTRAINT|MISMATCH|RANGE|TOOBIG)|constraint failed|D1_TYPE_ERROR/;
/**
 * R2 (`put: We encountered an internal error. Please try again. (10001)`): internal, unavailable,
 * too busy; and 0, which workerd gives when the bucket's service failed without an R2 error
 * (`put: Unspecified error (0)` once the bucket's storage is gone).
 */
const R2_OUTAGE = /^[a-zA-Z]+: .* \((0|10001|10043|10058)\)$/s;
/** KV (`KV PUT failed: 500 Internal Server Error`): server-side statuses only. */
const KV_OUTAGE = /^KV [A-Z_]+ failed: (5\d\d|429)\b/;
/**
 * Queues: the broker answered with a server-side status (`Queue send failed: Internal Server
 * Error`), or `Unknown Internal Error (15000)`. Not the limits, which use the same prefix
 * (`Queue send failed: message length of 200002 bytes exceeds limit of 128000`).
 */
const QUEUE_OUTAGE =
  /^Queue send(Batch)? failed: (Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Too Many Requests)$|\(15000\)$/;
/** workerd's error for an exception inside a remote object, such as a store's own. */
const INTERNAL_ERROR = /^internal error; reference = [0-9a-z]+$/;
/** A frame of the D1 binding's own wrapper, left in the stack of anything it rethrows. */
const D1_FRAME = /\(cloudflare-internal:d1-api:\d+:\d+\)|at async cloudflare-internal:d1-api:/;

function messageOf(err: unknown): string | undefined {
  return err instanceof Error ? err.message : undefined;
}

/**
 * workerd's generic failures of a binding's backing service, recognised by the flag workerd
 * sets on them as well as by their text: the connection to the store's object dropped
 * (`Network connection lost.`, `retryable`), or the object failed inside, e.g. could not open
 * its database (`internal error; reference = …`, `remote`).
 */
function transportFailure(err: Error): boolean {
  const flags = err as Error & { remote?: unknown; retryable?: unknown };
  return (
    (flags.retryable === true && err.message === 'Network connection lost.') ||
    (flags.remote === true && INTERNAL_ERROR.test(err.message))
  );
}

/** The store whose outage `err` is, looking through wrappers (drizzle's DrizzleQueryError). */
export function storeOutage(err: unknown, depth = 0): Store | undefined {
  const message = messageOf(err);
  if (message === undefined || depth > 3) return undefined;
  if (/^D1[_ ]/.test(message)) return SQL_BUG.test(message) ? undefined : 'D1';
  if (R2_OUTAGE.test(message)) return 'R2';
  if (KV_OUTAGE.test(message)) return 'KV';
  if (QUEUE_OUTAGE.test(message)) return 'Queues';
  if (transportFailure(err as Error)) return D1_FRAME.test(String((err as Error).stack)) ? 'D1' : UNNAMED;
  const cause = (err as Error).cause;
  // drizzle wraps only D1 queries here: its wrapper names the store its cause may not.
  if (message.startsWith('Failed query: ') && cause instanceof Error && transportFailure(cause)) return 'D1';
  return storeOutage(cause, depth + 1);
}
