import { createExecutionContext, env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWorker } from '../../workers/index';
import { rulesOf } from '../../workers/http/route';
import { gcra } from '../../workers/ratelimit/gcra';
import {
  PASSWORD,
  call,
  callJson,
  createKey,
  fixture,
  inWorkspace,
  registerUser,
  testWorker,
  uploadRaw,
  type TestWorker,
} from '../helpers';

afterEach(() => vi.restoreAllMocks());

/** Gives the user's workspace tight limits (the platform admin's call, so it is not counted). */
async function limit(
  workspaceId: string,
  limits: { prediction?: number; management?: number; window_seconds?: number },
) {
  await callJson('PATCH', '/v1/workspace', 200, { headers: inWorkspace(workspaceId), body: { rate_limits: limits } });
}

const headersOf = (res: Response) => ({
  limit: res.headers.get('ratelimit-limit'),
  remaining: res.headers.get('ratelimit-remaining'),
  reset: res.headers.get('ratelimit-reset'),
});

describe('the algorithm (GCRA), on a clock the test drives', () => {
  const window = 60_000;

  it('allows the limit as a burst, then one request per window/limit', () => {
    let tat: number | undefined;
    const at = (now: number) => {
      const r = gcra(tat, now, 3, window);
      tat = r.tat;
      return r.decision;
    };
    expect(at(0)).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 20 });
    expect(at(0)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 40 });
    expect(at(0)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 });
    expect(at(0)).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 60, retryAfterSeconds: 20 });
    expect(at(19_000)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(at(20_000)).toMatchObject({ allowed: true, remaining: 0 });
    // After a whole window of quiet the full budget is back.
    expect(at(20_000 + 60_000)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('never allows more than the limit at once, whatever the rounding', () => {
    for (const limit of [3, 7, 1000]) {
      let tat: number | undefined;
      let allowed = 0;
      for (let i = 0; i < 2 * limit; i++) {
        const r = gcra(tat, 0, limit, 1000);
        if (r.decision.allowed) [tat, allowed] = [r.tat, allowed + 1];
      }
      expect(allowed).toBe(limit);
    }
  });

  it('grants several at once only as far as they fit (leases)', () => {
    const first = gcra(undefined, 0, 10, window, 4);
    expect(first.decision).toMatchObject({ allowed: true, granted: 4, remaining: 6 });
    const second = gcra(first.tat, 0, 10, window, 8);
    expect(second.decision).toMatchObject({ allowed: true, granted: 6, remaining: 0 });
    expect(gcra(second.tat, 0, 10, window, 3).decision).toMatchObject({ allowed: false, granted: 0 });
  });
});

describe('budgets declared with the routes', () => {
  it('prediction routes (V2 model routes, /v1 predict) are counted apart from management', () => {
    const budget = (method: string, path: string) => rulesOf(method, path)?.budget;
    expect(budget('POST', '/v2/models/:model/infer')).toBe('prediction');
    expect(budget('POST', '/v2/models/:model/versions/:version/infer')).toBe('prediction');
    expect(budget('GET', '/v2/models/:model')).toBe('prediction');
    expect(budget('GET', '/v2/models/:model/versions/:version/ready')).toBe('prediction');
    expect(budget('POST', '/v1/models/:name/predict')).toBe('prediction');
    expect(budget('POST', '/v1/models/:name/versions/:version/predict')).toBe('prediction');
    expect(budget('POST', '/v1/models/:name/versions')).toBe('management');
    expect(budget('GET', '/v1/models/:name/versions')).toBe('management');
    expect(budget('GET', '/v1/models')).toBe('management');
    expect(budget('POST', '/v1/api-keys')).toBe('management');
    expect(budget('POST', '/v1/auth/login')).toBe('sign-in');
    expect(budget('GET', '/v2/health/live')).toBe('unmetered');
  });

  it('so do body limits: uploads stream against their own, tensors get the prediction limit', () => {
    expect(rulesOf('POST', '/v1/models/:name/versions')?.body).toBe('stream');
    expect(rulesOf('POST', '/v2/models/:model/infer')?.body).toBe('tensors');
    expect(rulesOf('POST', '/v1/models')?.body).toBe('json');
  });
});

describe('rate limits', () => {
  it('answer 429 with Retry-After and RateLimit-* once the budget is spent, and recover after the window', async () => {
    const user = await registerUser();
    await limit(user.workspaceId, { management: 3, window_seconds: 60 });
    // The limiter reads Date.now (it runs in this isolate): hold the clock still, then move it.
    const t0 = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(t0);
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const res = await call('GET', '/v1/models', { token: user.token });
      expect(res.status).toBe(200);
      seen.push(headersOf(res));
    }
    expect(seen.map((h) => h.remaining)).toEqual(['2', '1', '0']);
    expect(seen.every((h) => h.limit === '3' && Number(h.reset) >= 0)).toBe(true);
    const limited = await call('GET', '/v1/models', { token: user.token });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('20');
    expect(headersOf(limited)).toEqual({ limit: '3', remaining: '0', reset: '60' });
    const body = await limited.json<any>();
    expect(body.error).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('3 requests per 60 s') });
    clock.mockReturnValue(t0 + 61_000);
    const recovered = await call('GET', '/v1/models', { token: user.token });
    expect(recovered.status).toBe(200);
    expect(recovered.headers.get('ratelimit-remaining')).toBe('2');
  });

  it('count prediction and management apart', async () => {
    const user = await registerUser();
    const upload = await uploadRaw('iris', fixture('generated/iris.onnx'), { token: user.token });
    expect(upload.status).toBe(201);
    await limit(user.workspaceId, { prediction: 2, management: 100, window_seconds: 60 });
    const body = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };
    for (let i = 0; i < 2; i++) {
      const res = await call('POST', '/v2/models/iris/infer', { token: user.token, body });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('2');
      expect(res.headers.get('ratelimit-remaining')).toBe(String(1 - i));
    }
    const limited = await call('POST', '/v2/models/iris/infer', { token: user.token, body });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ error: expect.stringContaining('rate limit exceeded') });
    const management = await call('GET', '/v1/models', { token: user.token });
    expect(management.status).toBe(200);
    expect(management.headers.get('ratelimit-limit')).toBe('100');
  });

  it('are per API key or user: one caller’s spent budget does not stop another', async () => {
    const user = await registerUser();
    await limit(user.workspaceId, { management: 1, window_seconds: 60 });
    const a = await createKey(['models:read'], { headers: inWorkspace(user.workspaceId) });
    const b = await createKey(['models:read'], { headers: inWorkspace(user.workspaceId) });
    expect((await call('GET', '/v1/models', { token: a.key })).status).toBe(200);
    expect((await call('GET', '/v1/models', { token: a.key })).status).toBe(429);
    expect((await call('GET', '/v1/models', { token: b.key })).status).toBe(200);
    expect((await call('GET', '/v1/models', { token: user.token })).status).toBe(200);
  });

  it('are exact under concurrency within an isolate (decided locally, no round trip)', async () => {
    const user = await registerUser();
    await limit(user.workspaceId, { management: 5, window_seconds: 60 });
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => (await call('GET', '/v1/models', { token: user.token })).status),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('a budget spent in one isolate is refused in another once it has heard, with no round trip per refusal', async () => {
    const user = await registerUser();
    await limit(user.workspaceId, { management: 10, window_seconds: 60 });
    const [a, b] = [testWorker(), testWorker()];
    vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    const list = (via: TestWorker) => call('GET', '/v1/models', { token: user.token, via });
    for (let i = 0; i < 10; i++) expect((await list(a)).status).toBe(200);
    // A tells the budget's object after its responses.
    await vi.waitFor(() => expect(a.services.budgets.stats()).toMatchObject({ unsettled: 0 }));
    // B knew nothing: its first request is admitted on what it knew, and its report learns the rest.
    expect((await list(b)).status).toBe(200);
    await vi.waitFor(() => expect(b.services.budgets.stats()).toMatchObject({ unsettled: 0 }));
    const limiter = vi.spyOn(env.RATE_LIMITER, 'idFromName');
    for (let i = 0; i < 5; i++) {
      const refused = await list(b);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(limiter).not.toHaveBeenCalled();
  });

  it('use the platform defaults when the workspace sets none, and never limit the admin', async () => {
    const user = await registerUser();
    const res = await call('GET', '/v1/models', { token: user.token });
    expect(res.headers.get('ratelimit-limit')).toBe(env.RATE_LIMIT_MANAGEMENT);
    const admin = await call('GET', '/v1/models');
    expect(admin.status).toBe(200);
    expect(admin.headers.get('ratelimit-limit')).toBeNull();
  });

  it('decide locally when the budget’s object cannot be reached, and log the failed report', async () => {
    const user = await registerUser();
    vi.spyOn(env.RATE_LIMITER, 'idFromName').mockImplementation(() => {
      throw new Error('durable objects down');
    });
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void warnings.push(line));
    const res = await call('GET', '/v1/models', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBe(env.RATE_LIMIT_MANAGEMENT);
    await vi.waitFor(() => expect(warnings.join('\n')).toContain('rate limit report failed'));
  });

  it('count register, login and refresh per client address', async () => {
    const user = await registerUser();
    const app = createWorker();
    const testEnv = { ...env, RATE_LIMIT_AUTH: '2' };
    const address = `203.0.113.${Math.floor(Math.random() * 250)}`;
    const login = (ip: string) =>
      app.fetch(
        new Request('http://modelflare.test/v1/auth/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
          body: JSON.stringify({ email: user.email, password: `${PASSWORD}-wrong` }),
        }),
        testEnv,
        createExecutionContext(),
      );
    expect((await login(address)).status).toBe(401);
    expect((await login(address)).status).toBe(401);
    const limited = await login(address);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(`198.51.100.${Math.floor(Math.random() * 250)}`)).status).toBe(401);
  });
});
