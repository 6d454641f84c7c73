import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, callJson } from '../helpers';

afterEach(() => vi.restoreAllMocks());

describe('health', () => {
  it('live answers without a credential', async () => {
    expect(await callJson('GET', '/v2/health/live', 200, { token: null })).toEqual({ live: true });
  });

  it('ready checks D1, R2 and KV', async () => {
    expect(await callJson('GET', '/v2/health/ready', 200, { token: null })).toEqual({
      ready: true,
      checks: { d1: true, r2: true, kv: true },
      backends_not_answering: [],
    });
  });

  it('ready answers 503 naming the store that fails', async () => {
    vi.spyOn(env.CACHE, 'get').mockRejectedValueOnce(new Error('kv down'));
    const body = await callJson('GET', '/v2/health/ready', 503, { token: null });
    expect(body).toEqual({ ready: false, checks: { d1: true, r2: true, kv: false }, backends_not_answering: [] });
  });
});

describe('request ids', () => {
  it('reach a response a middleware built itself (a CORS preflight) as well as a handler’s', async () => {
    const preflight = await call('OPTIONS', '/v1/models', {
      token: null,
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'x-request-id': 'id-preflight',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('x-request-id')).toBe('id-preflight');
    const handled = await call('GET', '/v2/health/live', { token: null, headers: { 'x-request-id': 'id-handled' } });
    expect(handled.headers.get('x-request-id')).toBe('id-handled');
  });

  it('generates one per request', async () => {
    const a = await call('GET', '/v2/health/live', { token: null });
    const b = await call('GET', '/v2/health/live', { token: null });
    expect(a.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('keeps a well-formed incoming id and replaces a malformed one', async () => {
    const kept = await call('GET', '/v2/health/live', { token: null, headers: { 'x-request-id': 'trace-42:abc' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-42:abc');
    const replaced = await call('GET', '/v2/health/live', {
      token: null,
      headers: { 'x-request-id': 'bad id<script>' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('appears in error envelopes too', async () => {
    const res = await call('GET', '/v1/models/none-such', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect((await res.json<any>()).error.request_id).toBe('abc-123');
  });
});

describe('routing errors', () => {
  it('404 for an unknown route in the envelope', async () => {
    const body = await callJson('GET', '/v1/nothing-here', 404);
    expect(body.error).toMatchObject({ code: 'route_not_found', message: 'no route for GET /v1/nothing-here' });
  });

  it('405 with Allow for a known path and the wrong method', async () => {
    const res = await call('PUT', '/v1/models');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    const body = await res.json<any>();
    expect(body.error.code).toBe('method_not_allowed');
    const alias = await call('PATCH', '/v1/models/iris/aliases/production');
    expect(alias.status).toBe(405);
    expect(alias.headers.get('allow')).toBe('DELETE, GET, HEAD, PUT');
  });

  it('/v2 routes answer errors in the Open Inference Protocol form', async () => {
    const res = await call('POST', '/v2/health/live');
    expect(res.status).toBe(405);
    const body = await res.json<any>();
    expect(Object.keys(body)).toEqual(['error']);
    expect(typeof body.error).toBe('string');
  });
});

describe('credentials', () => {
  it('a registry route without a credential answers 401 with WWW-Authenticate', async () => {
    const res = await call('GET', '/v1/models', { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    const body = await res.json<any>();
    expect(body.error).toMatchObject({
      code: 'unauthenticated',
      message: expect.stringContaining('missing credential'),
    });
  });

  it('a wrong key answers 401 and a malformed header says so', async () => {
    expect((await callJson('GET', '/v1/models', 401, { token: 'wrong-key' })).error.message).toBe('invalid credential');
    const res = await call('GET', '/v1/models', { token: null, headers: { authorization: 'Basic abc' } });
    expect(res.status).toBe(401);
    expect((await res.json<any>()).error.message).toContain('malformed Authorization header');
  });

  it('every registry route refuses an anonymous caller before touching data', async () => {
    const routes: [string, string][] = [
      ['POST', '/v1/models'],
      ['GET', '/v1/models/x'],
      ['PATCH', '/v1/models/x'],
      ['DELETE', '/v1/models/x'],
      ['POST', '/v1/models/x/versions'],
      ['GET', '/v1/models/x/versions'],
      ['GET', '/v1/models/x/versions/1'],
      ['PATCH', '/v1/models/x/versions/1'],
      ['DELETE', '/v1/models/x/versions/1'],
      ['GET', '/v1/models/x/versions/1/artifact'],
      ['PUT', '/v1/models/x/aliases/prod'],
      ['DELETE', '/v1/models/x/aliases/prod'],
    ];
    for (const [method, path] of routes) {
      expect((await call(method, path, { token: null })).status, `${method} ${path}`).toBe(401);
    }
  });
});

describe('access log', () => {
  it('writes one JSON line with route pattern, status, duration, request id, model and version', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    await call('GET', '/v1/models/absent-model/versions/3', { headers: { 'x-request-id': 'log-test-1' } });
    const entries = lines.map((l) => JSON.parse(l)).filter((e) => e.request_id === 'log-test-1');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      route: '/v1/models/:name/versions/:version',
      status: 404,
      model: 'absent-model',
    });
    expect(entries[0].duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('never logs the credential', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    await call('GET', '/v1/models?secret=shh', { token: 'not-the-key-but-secret-looking' });
    await call('GET', '/v1/models');
    const text = lines.join('\n');
    expect(text).not.toContain('not-the-key-but-secret-looking');
    expect(text).not.toContain(env.ADMIN_API_KEY!);
    expect(text).not.toContain('shh');
  });
});
