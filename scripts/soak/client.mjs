// Every soak request goes through here: counted by operation and status, with a deadline so a
// request that never answers is counted (status 0) instead of stalling the run.

const DEADLINE_MS = 30_000;
const TRACE = process.env.SOAK_TRACE === '1';

export function createClient(origin, tally) {
  /*
   * `mayClose`: the server may answer before it has read the body and close the connection (a
   * body over the limit, refused on its Content-Length); the client, still sending, can then see
   * the connection reset instead of the answer. That is HTTP/1.1 early refusal, not an outage, and
   * is counted apart ("closed") rather than as "no answer".
   */
  return async function send(op, method, path, { token, json, body, headers = {}, mayClose = false } = {}) {
    const init = {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: json !== undefined ? JSON.stringify(json) : body,
      signal: AbortSignal.timeout(DEADLINE_MS),
    };
    let res;
    let text;
    if (TRACE) console.error(`→ ${op} ${method} ${path}`);
    try {
      res = await fetch(`${origin}${path}`, init);
      text = await res.text();
    } catch (err) {
      if (mayClose && err.name !== 'TimeoutError') {
        tally.answer(op, 'closed');
        return { status: 'closed', body: null, text: '', headers: new Headers() };
      }
      tally.answer(op, 0);
      tally.fail(op, `${method} ${path}: no answer (${err.name}: ${err.message})`);
      return { status: 0, body: null, text: '', headers: new Headers() };
    }
    tally.answer(op, res.status);
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // JSON Lines, or an answer that should have been JSON: the caller decides
    }
    if (res.status >= 500) tally.fail(op, `${method} ${path}: ${res.status} ${text}`);
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
}

/**
 * Whether `body` is one of the platform's error forms: `{"error": {"code", "message"}}` on its own
 * API, `{"error": "message"}` on the Open Inference Protocol's routes (as V2 prescribes).
 */
export function isErrorEnvelope(body) {
  if (body === null || typeof body !== 'object') return false;
  if (typeof body.error === 'string') return body.error.length > 0;
  return (
    typeof body.error?.code === 'string' && typeof body.error?.message === 'string' && body.error.message.length > 0
  );
}
