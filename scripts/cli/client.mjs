// @ts-check
/*
 * A small fetch client typed by the OpenAPI snapshot (scripts/api): `request('post',
 * '/v1/jobs', { body })` only compiles with a path, method and body the server documents, and
 * its answer has the documented type. Every request has a deadline (--timeout): the server must
 * start answering within it, counted from the last byte of the body sent, so a server that
 * never answers ends the command instead of hanging it.
 */
import { ApiError, CliError, describeBody, EXIT } from './errors.mjs';

/**
 * @typedef {import('../api/types').Path} Path
 * @typedef {import('../api/types').RawBody} RawBody
 */
/**
 * @template {Path} P
 * @template {import('../api/types').MethodOf<P>} M
 * @typedef {import('../api/types').RequestOptions<P, M>} RequestOptions
 */
/**
 * @template {Path} P
 * @template {import('../api/types').MethodOf<P>} M
 * @typedef {import('../api/types').Ok<P, M>} Ok
 */
/**
 * @typedef {{ params?: unknown, query?: unknown, body?: unknown, raw?: RawBody, headers?: Record<string, string> }} AnyRequest
 */

export const USER_AGENT = 'modelflare-cli/0.1.0';
/** Seconds a request may wait for the server to start answering (MODELFLARE_TIMEOUT, --timeout). */
export const DEFAULT_TIMEOUT_SECONDS = 60;
/** A rate-limited request is retried when the server asks for at most this long a pause. */
const MAX_RETRY_AFTER_SECONDS = 30;
const MAX_ATTEMPTS = 4;

/**
 * @typedef {object} ClientOptions
 * @property {string} url the server's origin, e.g. http://127.0.0.1:8787
 * @property {string} [token]
 * @property {string} [workspace] the Modelflare-Workspace to act in
 * @property {() => Promise<string | undefined>} [refresh] a new token after a 401, if the session can be renewed
 * @property {number} [timeoutSeconds] how long the server may take to start answering
 * @property {(text: string) => void} [notice] where to say that a request is retried
 */

/** Raised when the deadline passes; turned into a CliError naming the server and the wait. */
class Deadline extends Error {}

/**
 * An abort signal that fires `seconds` after the last touch.
 * @param {number} seconds
 */
function deadline(seconds) {
  const controller = new AbortController();
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Deadline()), seconds * 1000);
    // Never what keeps the process alive.
    timer.unref();
  };
  touch();
  return { signal: controller.signal, touch, stop: () => clearTimeout(timer) };
}

/**
 * A request body stream that touches the deadline as each chunk goes out.
 * @param {ReadableStream<Uint8Array>} body
 * @param {() => void} touch
 */
function touching(body, touch) {
  return body.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        touch();
        controller.enqueue(chunk);
      },
    }),
  );
}

/** @param {ClientOptions} options */
export function createClient(options) {
  let token = options.token;
  const base = options.url.replace(/\/+$/, '');
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;

  /** @param {unknown} err */
  function failure(err) {
    if (err instanceof Deadline || (err instanceof Error && err.cause instanceof Deadline)) {
      return new CliError(
        `no answer from ${base} within ${timeoutSeconds} s (--timeout, MODELFLARE_TIMEOUT)`,
        EXIT.SERVER,
        { url: base, timeout_seconds: timeoutSeconds },
      );
    }
    const cause = /** @type {{ cause?: { code?: string, message?: string } }} */ (err).cause;
    const reason = cause?.code ?? cause?.message ?? /** @type {Error} */ (err).message;
    return new CliError(`cannot reach ${base}: ${reason}`, EXIT.SERVER, { url: base });
  }

  /**
   * Sends a request; answers the response once its headers arrived, and a `done` that stops
   * the deadline (the caller reads the body under it, or not).
   * @param {string} method
   * @param {string} path
   * @param {AnyRequest} opts
   */
  async function send(method, path, opts) {
    const url = new URL(base + fillPath(path, /** @type {object | undefined} */ (opts.params)));
    for (const [key, value] of Object.entries(/** @type {object} */ (opts.query ?? {}))) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (v !== undefined && v !== null) url.searchParams.append(key, String(v));
      }
    }
    for (let attempt = 1; ; attempt += 1) {
      const headers = new Headers({ 'user-agent': USER_AGENT, accept: 'application/json', ...opts.headers });
      if (token) headers.set('authorization', `Bearer ${token}`);
      if (options.workspace) headers.set('modelflare-workspace', options.workspace);
      const timer = deadline(timeoutSeconds);
      /** @type {RequestInit & { duplex?: 'half' }} */
      const init = { method: method.toUpperCase(), headers, signal: timer.signal };
      if (opts.raw) {
        headers.set('content-type', opts.raw.contentType);
        headers.set('content-length', String(opts.raw.length));
        init.body = typeof opts.raw.body === 'function' ? touching(opts.raw.body(), timer.touch) : opts.raw.body;
        init.duplex = 'half';
      } else if (opts.body !== undefined) {
        headers.set('content-type', 'application/json');
        init.body = JSON.stringify(opts.body);
      }
      let res;
      try {
        res = await fetch(url, init);
      } catch (err) {
        timer.stop();
        throw failure(err);
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status === 429 && attempt < MAX_ATTEMPTS && retryAfter <= MAX_RETRY_AFTER_SECONDS) {
        timer.stop();
        await res.body?.cancel();
        options.notice?.(`rate limited: retrying in ${Math.max(retryAfter, 1)} s`);
        await new Promise((r) => setTimeout(r, Math.max(retryAfter, 1) * 1000));
        continue;
      }
      if (res.status === 401 && attempt === 1 && options.refresh) {
        const renewed = await options.refresh();
        if (renewed) {
          timer.stop();
          await res.body?.cancel();
          token = renewed;
          continue;
        }
      }
      return { res, timer };
    }
  }

  /**
   * The body as text, read under the deadline.
   * @param {Response} res
   * @param {ReturnType<typeof deadline>} timer
   */
  async function readText(res, timer) {
    try {
      return await res.text();
    } catch (err) {
      throw failure(err);
    } finally {
      timer.stop();
    }
  }

  /**
   * An error answer throws an ApiError; a success answer passes.
   * @param {Response} res
   * @param {ReturnType<typeof deadline>} timer
   */
  async function check(res, timer) {
    if (res.ok) return res;
    const hint =
      res.status === 401 && !token
        ? 'no credential was sent: run `modelflare login` or set MODELFLARE_TOKEN'
        : undefined;
    throw new ApiError(res.status, await readText(res, timer), {
      hint,
      contentType: res.headers.get('content-type'),
      url: res.url,
    });
  }

  /**
   * Parses a JSON answer; anything else (a login page a proxy put in between, say) is an error
   * that names what came back.
   * @param {Response} res
   * @param {ReturnType<typeof deadline>} timer
   */
  async function json(res, timer) {
    const text = await readText(res, timer);
    if (res.status === 204 || text === '') return undefined;
    const type = res.headers.get('content-type') ?? '';
    if (/[/+]json\b/i.test(type)) {
      try {
        return JSON.parse(text);
      } catch {
        // falls through to the error below
      }
    }
    throw notJson(res, text);
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {AnyRequest} opts
   */
  async function fetchJson(method, path, opts) {
    const { res, timer } = await send(method, path, opts);
    return json(await check(res, timer), timer);
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {AnyRequest} opts
   */
  async function fetchResponse(method, path, opts) {
    const { res, timer } = await send(method, path, opts);
    try {
      return await check(res, timer);
    } finally {
      // Headers are in: how long the body takes is up to its size and its reader.
      timer.stop();
    }
  }

  return {
    url: base,

    /**
     * Calls a route and parses its JSON answer; an error answer throws an ApiError.
     * @template {Path} P
     * @template {import('../api/types').MethodOf<P>} M
     * @param {M} method
     * @param {P} path
     * @param {RequestOptions<P, M>} [opts]
     * @returns {Promise<Ok<P, M>>}
     */
    async request(method, path, opts = {}) {
      return /** @type {Ok<P, M>} */ (await fetchJson(method, path, /** @type {AnyRequest} */ (opts)));
    },

    /**
     * Calls a route whose answer is not JSON (JSONL results, a model file) and hands back the
     * response to stream; an error answer throws an ApiError.
     * @template {Path} P
     * @template {import('../api/types').MethodOf<P>} M
     * @param {M} method
     * @param {P} path
     * @param {RequestOptions<P, M>} [opts]
     * @returns {Promise<Response>}
     */
    async stream(method, path, opts = {}) {
      return fetchResponse(method, path, /** @type {AnyRequest} */ (opts));
    },

    /**
     * Any operation by its method and path template, for commands made from the OpenAPI
     * document: the response (checked), its JSON read with `json`.
     * @param {string} method
     * @param {string} path
     * @param {AnyRequest} opts
     */
    async call(method, path, opts) {
      const { res, timer } = await send(method, path, opts);
      await check(res, timer);
      return { res, json: () => json(res, timer), release: () => timer.stop() };
    },
  };
}

/** @typedef {ReturnType<typeof createClient>} Client */

/**
 * A success answer that is not the JSON the API sends.
 * @param {Response} res
 * @param {string} text
 */
export function notJson(res, text) {
  const type = res.headers.get('content-type') || 'no content type';
  return new CliError(
    `the server answered HTTP ${res.status} with ${type}, not JSON (${describeBody(text)}): ` +
      `is ${new URL(res.url).origin} the modelflare API, and not a proxy or login page in front of it?`,
    EXIT.SERVER,
    { status: res.status, content_type: type },
  );
}

/**
 * `/v1/models/{name}` with `{ name: 'iris' }` -> `/v1/models/iris`.
 * @param {string} path
 * @param {object} [params]
 */
function fillPath(path, params = {}) {
  return path.replace(/\{([^}]+)\}/g, (_, key) => {
    const value = /** @type {Record<string, unknown>} */ (params)[key];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${key} for ${path}`);
    return encodeURIComponent(String(value));
  });
}
