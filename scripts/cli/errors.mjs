// @ts-check
/*
 * Exit codes are part of the CLI's interface: scripts branch on them, so they only ever grow.
 */
export const EXIT = Object.freeze({
  /** Done. */
  OK: 0,
  /** The command line is wrong (unknown command or option, bad JSON in --data, unreadable file…). */
  USAGE: 1,
  /** The API refused the request (4xx other than 401, 403 and 404). */
  API: 2,
  /** The server failed (5xx) or could not be reached. */
  SERVER: 3,
  /** `jobs wait` (or `jobs submit --wait`): the job ended, but not `succeeded`. */
  JOB_FAILED: 4,
  /** No credential, or one the server refused (401), or not allowed (403). */
  AUTH: 5,
  /** The model, version, job, key… does not exist in this workspace (404). */
  NOT_FOUND: 6,
  /** `jobs wait --timeout` ran out before the job ended. */
  TIMEOUT: 7,
});

export class CliError extends Error {
  /**
   * @param {string} message
   * @param {number} exitCode
   * @param {Record<string, unknown>} [details] what `--json` prints besides the message
   */
  constructor(message, exitCode, details = {}) {
    super(message);
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** @param {string} message */
export const usage = (message) => new CliError(message, EXIT.USAGE);

/** @param {number} status */
export function exitCodeForStatus(status) {
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status >= 400 && status < 500) return EXIT.API;
  return EXIT.SERVER;
}

/** An error answer of the API, from either envelope: `{"error": {code, message, request_id}}` or V2's `{"error": "…"}`. */
export class ApiError extends CliError {
  /**
   * @param {number} status
   * @param {string} text the response body
   * @param {{ hint?: string, contentType?: string | null, url?: string }} [about] what to do
   *   about it; what the body is and where it came from (for an answer that is not the API's)
   */
  constructor(status, text, about = {}) {
    const parsed = parseEnvelope(text);
    const hint = about.hint ? `; ${about.hint}` : '';
    const apiAnswer = parsed.message !== undefined;
    const type = about.contentType || 'no content type';
    // Not the API's envelope: a proxy's or a load balancer's page, say. Name what came back
    // rather than print the page.
    const message = apiAnswer
      ? `${parsed.message}${hint}`
      : `the server answered HTTP ${status} with ${type}, not an API error (${describeBody(text)})` +
        `${about.url ? ` from ${safeOrigin(about.url)}` : ''}${hint}`;
    const context = [`HTTP ${status}`, parsed.code, parsed.request_id && `request ${parsed.request_id}`]
      .filter(Boolean)
      .join(', ');
    super(apiAnswer ? `${message} (${context})` : message, exitCodeForStatus(status), {
      status,
      code: parsed.code ?? null,
      request_id: parsed.request_id ?? null,
      ...(apiAnswer ? {} : { content_type: type }),
      ...(parsed.details ? { details: parsed.details } : {}),
    });
    this.status = status;
    this.code = parsed.code;
  }
}

/**
 * A page's title, or its first words.
 * @param {string} text
 */
export function describeBody(text) {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  if (title) return `a page titled "${title}"`;
  const words = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return words ? `starting "${words.slice(0, 80)}${words.length > 80 ? '…' : ''}"` : 'empty';
}

/** @param {string} url */
function safeOrigin(url) {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * @param {string} text
 * @returns {{ message?: string, code?: string, request_id?: string, details?: Record<string, unknown> }}
 */
function parseEnvelope(text) {
  try {
    const body = JSON.parse(text);
    if (typeof body?.error === 'string') return { message: body.error };
    if (body?.error && typeof body.error === 'object' && typeof body.error.message === 'string') return body.error;
  } catch {
    // not JSON: a proxy's page, say
  }
  return {};
}
