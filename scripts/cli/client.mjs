// @ts-check
/*
 * A small fetch client typed by the OpenAPI snapshot (scripts/api): `request('post',
 * '/v1/jobs', { body })` only compiles with a path, method and body the server documents, and
 * its answer has the documented type.
 */
import { ApiError, CliError, EXIT } from './errors.mjs';

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

export const USER_AGENT = 'modelflare-cli/0.1.0';
/** A rate-limited request is retried when the server asks for at most this long a pause. */
const MAX_RETRY_AFTER_SECONDS = 30;
const MAX_ATTEMPTS = 4;

/**
 * @typedef {object} ClientOptions
 * @property {string} url the server's origin, e.g. http://127.0.0.1:8787
 * @property {string} [token]
 * @property {string} [workspace] the Modelflare-Workspace to act in
 * @property {() => Promise<string | undefined>} [refresh] a new token after a 401, if the session can be renewed
 */

/** @param {ClientOptions} options */
export function createClient(options) {
  let token = options.token;
  const base = options.url.replace(/\/+$/, '');

  /**
   * @param {string} method
   * @param {string} path
   * @param {{ params?: unknown, query?: unknown, body?: unknown, raw?: RawBody, headers?: Record<string, string> }} opts
   * @returns {Promise<Response>}
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
      /** @type {RequestInit & { duplex?: 'half' }} */
      const init = { method: method.toUpperCase(), headers };
      if (opts.raw) {
        headers.set('content-type', opts.raw.contentType);
        headers.set('content-length', String(opts.raw.length));
        init.body = typeof opts.raw.body === 'function' ? opts.raw.body() : opts.raw.body;
        init.duplex = 'half';
      } else if (opts.body !== undefined) {
        headers.set('content-type', 'application/json');
        init.body = JSON.stringify(opts.body);
      }
      let res;
      try {
        res = await fetch(url, init);
      } catch (err) {
        const cause = /** @type {{ cause?: { code?: string, message?: string } }} */ (err).cause;
        const reason = cause?.code ?? cause?.message ?? /** @type {Error} */ (err).message;
        throw new CliError(`cannot reach ${base}: ${reason}`, EXIT.SERVER, { url: base });
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status === 429 && attempt < MAX_ATTEMPTS && retryAfter <= MAX_RETRY_AFTER_SECONDS) {
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, Math.max(retryAfter, 1) * 1000));
        continue;
      }
      if (res.status === 401 && attempt === 1 && options.refresh) {
        const renewed = await options.refresh();
        if (renewed) {
          await res.body?.cancel();
          token = renewed;
          continue;
        }
      }
      return res;
    }
  }

  /** @param {Response} res */
  async function check(res) {
    if (res.ok) return res;
    const hint =
      res.status === 401 && !token
        ? 'no credential was sent: run `modelflare login` or set MODELFLARE_TOKEN'
        : undefined;
    throw new ApiError(res.status, await res.text(), hint);
  }

  return {
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
      const res = await check(await send(method, path, opts));
      const text = await res.text();
      return /** @type {Ok<P, M>} */ (text ? JSON.parse(text) : undefined);
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
      return check(await send(method, path, opts));
    },
  };
}

/** @typedef {ReturnType<typeof createClient>} Client */

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
