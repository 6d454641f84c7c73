import { createExecutionContext, env } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configFrom } from '../../workers/core/config';
import { createWorker } from '../../workers/index';
import type { Env } from '../../workers/platform/env';
import { call, callJson, createKey, fixture, inWorkspace, newModel, registerUser } from '../helpers';

/*
 * Budgets that no number of keys, sessions or junk requests can multiply: a ceiling per
 * workspace over its callers, a cap on live keys, failed credentials and refused hooks counted
 * per client address, /metrics limited, and an admin key too short to be a secret refused.
 */

afterEach(() => vi.restoreAllMocks());

async function limit(workspaceId: string, limits: Record<string, number>) {
  await callJson('PATCH', '/v1/workspace', 200, { headers: inWorkspace(workspaceId), body: { rate_limits: limits } });
}

/** A worker whose configuration differs from the tests' (its own isolate services too). */
function workerWith(vars: Partial<Record<keyof Env, string>>) {
  const worker = createWorker();
  const on = { ...env, ...vars } as unknown as Env;
  return (request: Request) => worker.fetch(request, on, createExecutionContext());
}

describe('budgets that cannot be multiplied', () => {
  it('a workspace’s callers together stop at the ceiling, however many keys they mint', async () => {
    const user = await registerUser();
    // 2 per caller, 4 callers' worth for the workspace (RATE_LIMIT_WORKSPACE_CALLERS): 8 in all.
    const fetch = workerWith({ RATE_LIMIT_WORKSPACE_CALLERS: '4' });
    const keys = await Promise.all(Array.from({ length: 6 }, () => createKey(['models:read'], { token: user.token })));
    await limit(user.workspaceId, { management: 2, window_seconds: 60 });
    vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    const statuses: number[] = [];
    for (const { key } of keys) {
      for (let i = 0; i < 2; i++) {
        const res = await fetch(
          new Request('http://modelflare.test/v1/models', { headers: { authorization: `Bearer ${key}` } }),
        );
        statuses.push(res.status);
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(8);
    expect(statuses.slice(8).every((s) => s === 429)).toBe(true);
  });

  it('a workspace holds at most MAX_API_KEYS_PER_WORKSPACE live keys; revoking one makes room', async () => {
    const user = await registerUser();
    const fetch = workerWith({ MAX_API_KEYS_PER_WORKSPACE: '3' });
    const mint = () =>
      fetch(
        new Request('http://modelflare.test/v1/api-keys', {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'k', scopes: ['models:read'] }),
        }),
      );
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await (await mint()).json<any>());
    const refused = await mint();
    expect(refused.status).toBe(409);
    expect((await refused.json<any>()).error.code).toBe('key_limit_reached');
    await callJson('DELETE', `/v1/api-keys/${made[0].id}`, 200, { token: user.token });
    expect((await mint()).status).toBe(201);
  });

  it('failed credentials are counted per client address: once spent, even a good one waits', async () => {
    const user = await registerUser();
    const fetch = workerWith({ RATE_LIMIT_AUTH: '3' });
    const from = (address: string, token: string) =>
      fetch(
        new Request('http://modelflare.test/v1/models', {
          headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': address },
        }),
      );
    vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    const bad = `mfk_${'x'.repeat(43)}`;
    for (let i = 0; i < 3; i++) expect((await from('203.0.113.7', bad)).status).toBe(401);
    const spent = await from('203.0.113.7', user.token);
    expect(spent.status).toBe(429);
    expect(Number(spent.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await from('203.0.113.8', user.token)).status).toBe(200);
  });

  it('/metrics is limited per client address', async () => {
    const fetch = workerWith({ RATE_LIMIT_MANAGEMENT: '2' });
    vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    const scrape = () =>
      fetch(
        new Request('http://modelflare.test/metrics', {
          headers: { authorization: `Bearer ${env.METRICS_SCRAPE_TOKEN}`, 'cf-connecting-ip': '198.51.100.9' },
        }),
      );
    expect((await scrape()).status).toBe(200);
    expect((await scrape()).status).toBe(200);
    expect((await scrape()).status).toBe(429);
  });

  it('an ADMIN_API_KEY shorter than 32 characters is a configuration error', () => {
    expect(() => configFrom({ ADMIN_API_KEY: 'short-admin-key' })).toThrow(
      /ADMIN_API_KEY must be at least 32 characters/,
    );
    expect(configFrom({ ADMIN_API_KEY: 'x'.repeat(32) }).ADMIN_API_KEY).toHaveLength(32);
  });
});

describe('inbound hooks: verified before any budget', () => {
  it('unsigned junk spends its sender’s address budget, never the trigger’s: the real sender gets through', async () => {
    const model = await newModel(fixture('generated/regressor.onnx'), 'hookflood');
    const trigger = await callJson('POST', '/v1/triggers', 201, { body: { name: 'flood', model } });
    const fetch = workerWith({ RATE_LIMIT_AUTH: '5', RATE_LIMIT_MANAGEMENT: '5' });
    vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    const post = (address: string, headers: Record<string, string>, body: string) =>
      fetch(
        new Request(`http://modelflare.test/v1/hooks/${trigger.id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'cf-connecting-ip': address, ...headers },
          body,
        }),
      );
    const junk = [];
    for (let i = 0; i < 130; i++) junk.push((await post('192.0.2.66', {}, '{}')).status);
    expect(junk.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(junk.slice(5).every((s) => s === 429)).toBe(true);
    // The real sender, with the trigger's secret: accepted, from anywhere.
    const body = JSON.stringify({ rows: [[1, 2]] });
    const id = `msg_${crypto.randomUUID()}`;
    const at = new Date();
    const signed = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(trigger.secret).sign(id, at, body),
    };
    const real = await post('192.0.2.10', signed, body);
    expect(real.status).toBe(202);
  });
});

describe('audit: who made and changed what', () => {
  it('webhook endpoints, triggers and jobs are recorded with their actor', async () => {
    const owner = await registerUser('auditor');
    const as = { token: owner.token };
    const endpoint = await callJson('POST', '/v1/webhooks', 201, {
      ...as,
      body: { url: 'https://hooks.example.com/audit', events: ['job.succeeded'] },
    });
    await callJson('PATCH', `/v1/webhooks/${endpoint.id}`, 200, { ...as, body: { enabled: false } });
    await callJson('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, 200, as);
    await callJson('DELETE', `/v1/webhooks/${endpoint.id}`, 204, as);
    const model = await newModel(fixture('generated/regressor.onnx'), 'audited');
    await callJson('POST', '/v1/models', 201, { ...as, body: { name: model } });
    await callJson('POST', `/v1/models/${model}/versions`, 201, {
      ...as,
      body: fixture('generated/regressor.onnx'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    const trigger = await callJson('POST', '/v1/triggers', 201, { ...as, body: { name: 'audited', model } });
    await callJson('POST', `/v1/triggers/${trigger.id}/rotate-secret`, 200, as);
    await callJson('DELETE', `/v1/triggers/${trigger.id}`, 204, as);
    const job = await callJson('POST', '/v1/jobs', 202, { ...as, body: { model, input: { rows: [[1, 2]] } } });
    await call('POST', `/v1/jobs/${job.id}/cancel`, as);
    const entries = (await callJson('GET', '/v1/audit-log?limit=100', 200, as)).entries;
    const actions = entries.map((e: any) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'webhook.create',
        'webhook.update',
        'webhook.rotate_secret',
        'webhook.delete',
        'trigger.create',
        'trigger.rotate_secret',
        'trigger.delete',
        'job.submit',
      ]),
    );
    for (const e of entries) expect(e.actor).toEqual({ kind: 'user', id: owner.userId });
  });
});
