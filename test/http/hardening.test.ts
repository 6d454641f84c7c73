import { createExecutionContext, env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWorker } from '../../workers/index';
import { PASSWORD, call, callJson, createKey, registerUser, uniqueName } from '../helpers';

afterEach(() => vi.restoreAllMocks());

/** The app with some variables changed, as a deployment with that configuration would run. */
function appWith(vars: Record<string, string | undefined>) {
  const app = createWorker();
  const testEnv = { ...env, ...vars };
  return (path: string, init?: RequestInit) =>
    app.fetch(new Request(`http://modelflare.test${path}`, init), testEnv, createExecutionContext());
}

const preflight = (origin: string, path = '/v1/models') =>
  call('OPTIONS', path, {
    token: null,
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('CORS', () => {
  it('answers a preflight from an allowed origin, without a credential', async () => {
    const res = await preflight('https://app.example.com');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase();
    expect(allowed).toContain('authorization');
    expect(allowed).toContain('content-type');
    expect(allowed).toContain('modelflare-workspace');
    // An Open Inference Protocol client in a page: compressed bodies, binary tensor data.
    expect(allowed).toContain('content-encoding');
    expect(allowed).toContain('inference-header-content-length');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('vary')).toContain('Origin');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('gives an unknown origin no CORS header at all', async () => {
    const res = await preflight('https://evil.example.net');
    expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const actual = await call('GET', '/v1/models', { headers: { origin: 'https://evil.example.net' } });
    expect(actual.status).toBe(200);
    expect([...actual.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('lets an allowed page read responses and their headers, errors included', async () => {
    const ok = await call('GET', '/v1/models', { headers: { origin: 'https://admin.example.com' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    const exposed = ok.headers.get('access-control-expose-headers')!;
    for (const h of [
      'X-Request-Id',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Inference-Header-Content-Length',
    ]) {
      expect(exposed).toContain(h);
    }
    const denied = await call('GET', '/v1/models', { token: null, headers: { origin: 'https://app.example.com' } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });

  it('`*` allows any origin; an empty list allows none', async () => {
    const any = appWith({ CORS_ORIGINS: '*' });
    const res = await any('/v2/health/live', { headers: { origin: 'https://anything.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const none = appWith({ CORS_ORIGINS: '' });
    const closed = await none('/v2/health/live', { headers: { origin: 'https://app.example.com' } });
    expect(closed.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a malformed CORS_ORIGINS fails loudly', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await appWith({ CORS_ORIGINS: 'app.example.com/path' })('/v2/health/live');
    expect(res.status).toBe(500);
    expect(String(errors.mock.calls[0]?.[0])).toContain('CORS_ORIGINS');
  });
});

describe('security headers', () => {
  const expectHardened = (res: Response) => {
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=31536000');
  };

  it('are on every response: success, errors, docs, health', async () => {
    expectHardened(await call('GET', '/v1/models'));
    expectHardened(await call('GET', '/v1/models', { token: null }));
    expectHardened(await call('GET', '/v1/nothing-here'));
    expectHardened(await call('GET', '/v2/health/live', { token: null }));
    expectHardened(await call('GET', '/openapi.json', { token: null }));
    expectHardened(await call('GET', '/docs', { token: null }));
    expectHardened(await preflight('https://app.example.com'));
  });

  it('the docs page works under the policy: same-origin scripts only, none inline', async () => {
    const html = await (await call('GET', '/docs', { token: null })).text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/docs\//);
      expect(body!.trim()).toBe('');
    }
    expect((await call('GET', '/docs/init.js', { token: null })).status).toBe(200);
  });

  it('HSTS is left out in development (plain http on localhost)', async () => {
    const res = await appWith({ ENVIRONMENT: 'development' })('/v2/health/live');
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('body limits', () => {
  const big = (bytes: number) => JSON.stringify({ name: uniqueName(), description: 'x'.repeat(bytes) });

  it('a JSON body over MAX_JSON_BODY_BYTES is 413 in the envelope, declared or streamed', async () => {
    const declared = await call('POST', '/v1/models', {
      body: big(70 * 1024),
      headers: { 'content-type': 'application/json' },
    });
    expect(declared.status).toBe(413);
    expect((await declared.json<any>()).error).toMatchObject({
      code: 'payload_too_large',
      message: 'the request body is larger than the limit of 64 KiB',
    });
    const bytes = new TextEncoder().encode(big(70 * 1024));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    const streamed = await call('POST', '/v1/models', {
      body: stream,
      headers: { 'content-type': 'application/json' },
    });
    expect(streamed.status).toBe(413);
  });

  it('applies to public routes too, and a body under the limit goes through', async () => {
    const res = await call('POST', '/v1/auth/register', {
      token: null,
      body: { email: `${uniqueName()}@example.com`, password: 'p'.repeat(70 * 1024) },
    });
    expect(res.status).toBe(413);
    const names = Array.from({ length: 500 }, (_, i) => `${i}`.padEnd(120, 'f'));
    const model = await callJson('POST', '/v1/models', 201, { body: { name: uniqueName(), feature_names: names } });
    expect(model.feature_names).toHaveLength(500);
  });

  it('prediction routes have their own, larger limit, and answer in the V2 form', async () => {
    const send = appWith({ MAX_PREDICT_BODY_BYTES: '100000' });
    const post = (bytes: number) =>
      send('/v2/models/iris/infer', {
        method: 'POST',
        headers: { authorization: `Bearer ${env.ADMIN_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [], pad: 'x'.repeat(bytes) }),
      });
    // under the limit the body reaches validation (and is refused for what it says, not its size)
    const within = await post(80_000);
    expect(within.status).toBe(400);
    expect((await within.json<any>()).error).toMatch(/inputs/);
    const tooBig = await post(120_000);
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toEqual({ error: 'the request body is larger than the limit of 98 KiB' });
  });

  it('malformed JSON is 400 in the envelope', async () => {
    const user = await registerUser();
    const res = await call('POST', '/v1/api-keys', {
      token: user.token,
      body: '{"name": "x", ',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    const body = await res.json<any>();
    expect(body.error).toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/JSON/) });
  });
});

describe('logs', () => {
  it('never contain passwords, tokens, refresh tokens or key secrets', async () => {
    const lines: string[] = [];
    for (const level of ['log', 'warn', 'error', 'info', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    }
    const user = await registerUser();
    const login = await callJson('POST', '/v1/auth/login', 200, {
      token: null,
      body: { email: user.email, password: PASSWORD },
    });
    const refreshed = await callJson('POST', '/v1/auth/refresh', 200, {
      token: null,
      body: { refresh_token: login.refresh_token },
    });
    await call('POST', '/v1/auth/refresh', { token: null, body: { refresh_token: login.refresh_token } });
    const key = await createKey(['models:read'], { token: user.token });
    await call('GET', '/v1/models', { token: key.key });
    await call('GET', '/v1/models', { token: `${user.token}x` });
    await call('POST', '/v1/auth/login', { token: null, body: { email: user.email, password: 'wrong-password!' } });
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const secret of [
      PASSWORD,
      'wrong-password!',
      user.token,
      user.refreshToken,
      login.access_token,
      login.refresh_token,
      refreshed.refresh_token,
      key.key,
      env.JWT_SECRET!,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('refresh token reused');
  });
});
