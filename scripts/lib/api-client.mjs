// A small client for the modelflare HTTP API, shared by `npm start` and the benchmark.

/**
 * `base` is the server's origin, or a function returning it (a restarted server moves); `token`
 * is sent as the bearer credential.
 */
export function apiClient(base, token) {
  const origin = typeof base === 'function' ? base : () => base;
  return async function api(method, path, body, headers = {}) {
    const binary = body instanceof Uint8Array;
    const res = await fetch(`${origin()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && !binary ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: binary ? body : body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
}
