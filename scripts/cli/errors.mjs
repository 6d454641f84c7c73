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
   * @param {string} [hint] what to do about it
   */
  constructor(status, text, hint) {
    const parsed = parseEnvelope(text);
    const message = (parsed.message ?? (text.trim().slice(0, 200) || `HTTP ${status}`)) + (hint ? `; ${hint}` : '');
    const context = [`HTTP ${status}`, parsed.code, parsed.request_id && `request ${parsed.request_id}`]
      .filter(Boolean)
      .join(', ');
    super(`${message} (${context})`, exitCodeForStatus(status), {
      status,
      code: parsed.code ?? null,
      request_id: parsed.request_id ?? null,
      ...(parsed.details ? { details: parsed.details } : {}),
    });
    this.status = status;
    this.code = parsed.code;
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
    if (body?.error && typeof body.error === 'object') return body.error;
  } catch {
    // not JSON: a proxy's page, say
  }
  return {};
}
