import { storeOutage } from './outage';

/*
 * What may be logged of a failed query. drizzle's DrizzleQueryError message is "Failed query:
 * <sql> params: <every bound value>": a prediction log that failed to insert printed a 2.6 MB
 * line holding a request's inputs and outputs. Only the class, the store that failed and the
 * driver's own short message (D1's code and reason) are kept.
 */

const MAX_MESSAGE = 200;

export interface ErrorSummary {
  error_class: string;
  /** D1, R2, KV or Queues when the store itself was down. */
  store?: string;
  message: string;
}

export function summarizeError(err: unknown): ErrorSummary {
  // drizzle's errors keep the name 'Error'; their class says what they are.
  const error_class =
    err instanceof Error ? (err.name !== 'Error' ? err.name : err.constructor.name || err.name) : typeof err;
  // The wrapper's cause is the driver's error (D1_ERROR: … SQLITE_TOOBIG), which names no values.
  const inner = err instanceof Error && err.message.startsWith('Failed query:') ? (err.cause ?? err) : err;
  let message = inner instanceof Error ? inner.message : typeof inner === 'string' ? inner : 'unknown error';
  const params = message.search(/\bparams:/);
  if (params >= 0) message = message.slice(0, params);
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  const store = storeOutage(err);
  return { error_class, ...(store && { store }), message: message.trim() };
}
