import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, callJson, createKey, fixture, registerUser, uploadRaw } from '../helpers';

afterEach(() => vi.restoreAllMocks());

const body = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

describe('the warm prediction path', () => {
  it('reads nothing from D1 and waits for no rate-limit round trip', async () => {
    const user = await registerUser();
    expect((await uploadRaw('iris', fixture('generated/iris.onnx'), { token: user.token })).status).toBe(201);
    const { key } = await createKey(['predict'], { token: user.token });
    const predict = async () => {
      const res = await call('POST', '/v2/models/iris/infer', {
        token: key,
        body,
        headers: { 'cache-control': 'no-store' },
      });
      expect(res.status).toBe(200);
      return res;
    };
    await predict();

    const statements: string[] = [];
    const prepare = env.DB.prepare.bind(env.DB);
    vi.spyOn(env.DB, 'prepare').mockImplementation((sql: string) => {
      statements.push(sql);
      return prepare(sql);
    });
    const limiter = vi.spyOn(env.RATE_LIMITER, 'idFromName');
    const remaining: number[] = [];
    for (let i = 0; i < 20; i++) remaining.push(Number((await predict()).headers.get('ratelimit-remaining')));

    // Credentials, the registry resolution and the session are all held by the isolate; what
    // D1 still sees are the buffered metric writes.
    expect(statements.filter((sql) => /^\s*select/i.test(sql))).toEqual([]);
    expect(limiter.mock.calls.length).toBeLessThan(20);
    // Counted all the same: every answer says what remains of the budget.
    expect(remaining.every((r) => r > 0 && r < Number(env.RATE_LIMIT_PREDICTION))).toBe(true);
  });

  it('a local budget never admits more than the limit, and reports to its object a few times, not per request', async () => {
    const user = await registerUser();
    expect((await uploadRaw('iris', fixture('generated/iris.onnx'), { token: user.token })).status).toBe(201);
    await callJson('PATCH', '/v1/workspace', 200, {
      headers: { 'modelflare-workspace': user.workspaceId },
      body: { rate_limits: { prediction: 100, window_seconds: 60 } },
    });
    // A still clock: no request is earned back while the burst runs.
    vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    const limiter = vi.spyOn(env.RATE_LIMITER, 'idFromName');
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 110; i++) {
      const res = await call('POST', '/v2/models/iris/infer', { token: user.token, body });
      statuses.push(res.status);
      remaining.push(res.headers.get('ratelimit-remaining') ?? '');
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.slice(100).every((s) => s === 429)).toBe(true);
    expect(remaining[0]).toBe('99');
    expect(remaining[99]).toBe('0');
    // Reports at most every REPORT_INTERVAL_MS, after the responses; refusals report nothing.
    expect(limiter.mock.calls.length).toBeLessThan(50);
  });
});
