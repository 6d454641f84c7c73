import { env } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, callJson, fixture, newModel, waitForJob } from '../helpers';

afterEach(() => vi.restoreAllMocks());

/** Signs like any Standard Webhooks sender would, with the reference library. */
function signed(secret: string, body: unknown, options: { id?: string; at?: Date } = {}) {
  const payload = JSON.stringify(body);
  const id = options.id ?? `evt_${crypto.randomUUID()}`;
  const at = options.at ?? new Date();
  return {
    payload,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, payload),
    },
  };
}

const post = (triggerId: string, message: { payload: string; headers: Record<string, string> }) =>
  call('POST', `/v1/hooks/${triggerId}`, { token: null, body: message.payload, headers: message.headers });

const jobsOf = async (triggerId: string) =>
  (await env.DB.prepare('select id from jobs where trigger_id = ?').bind(triggerId).all()).results.length;

describe('inbound triggers', () => {
  let model: string;
  let trigger: any;
  beforeAll(async () => {
    model = await newModel(fixture('generated/regressor.onnx'), 'trg');
    trigger = await callJson('POST', '/v1/triggers', 201, { body: { name: 'nightly scoring', model, chunk_size: 2 } });
  });

  it('creates a trigger and shows its whsec_ secret once', async () => {
    expect(trigger).toMatchObject({
      name: 'nightly scoring',
      model,
      version: null,
      hook_url: `/v1/hooks/${trigger.id}`,
    });
    expect(trigger.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const read = await callJson('GET', `/v1/triggers/${trigger.id}`, 200);
    expect(read).not.toHaveProperty('secret');
    expect((await callJson('GET', '/v1/triggers', 200)).triggers.map((t: any) => t.id)).toContain(trigger.id);
  });

  it('a signed delivery starts a job (no bearer token needed)', async () => {
    const res = await post(
      trigger.id,
      signed(trigger.secret, {
        rows: [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
      }),
    );
    expect(res.status).toBe(202);
    const body = await res.json<any>();
    expect(body).toEqual({ job_id: expect.stringMatching(/^job_/), duplicate: false });
    const job = await waitForJob(body.job_id);
    expect(job).toMatchObject({ status: 'succeeded', trigger_id: trigger.id, rows: { done: 3 } });
  });

  it('a retried delivery (same webhook-id) starts one job, even when retries race', async () => {
    const message = signed(
      trigger.id ? trigger.secret : '',
      { rows: [[4, 4]] },
      { id: `retry-${crypto.randomUUID()}` },
    );
    const before = await jobsOf(trigger.id);
    const [a, b] = await Promise.all([post(trigger.id, message), post(trigger.id, message)]);
    const c = await post(trigger.id, message);
    const bodies = await Promise.all([a, b, c].map((r) => r.json<any>()));
    expect([a.status, b.status, c.status]).toEqual([202, 202, 202]);
    expect(new Set(bodies.map((x) => x.job_id)).size).toBe(1);
    expect(bodies.filter((x) => x.duplicate)).toHaveLength(2);
    expect(await jobsOf(trigger.id)).toBe(before + 1);
  });

  describe('refuses with 401', () => {
    const body = { rows: [[1, 2]] };
    it('a wrong signature', async () => {
      const other = `whsec_${btoa('another secret of enough length!')}`;
      const res = await post(trigger.id, signed(other, body));
      expect(res.status).toBe(401);
      expect((await res.json<any>()).error.message).toMatch(/webhook signature refused: No matching signature/);
    });
    it('a tampered body', async () => {
      const message = signed(trigger.secret, body);
      const res = await post(trigger.id, { ...message, payload: JSON.stringify({ rows: [[9, 9]] }) });
      expect(res.status).toBe(401);
    });
    it('an expired timestamp and a replay outside five minutes', async () => {
      const old = signed(trigger.secret, body, { at: new Date(Date.now() - 6 * 60 * 1000) });
      const res = await post(trigger.id, old);
      expect(res.status).toBe(401);
      expect((await res.json<any>()).error.message).toMatch(/too old/);
      const future = await post(trigger.id, signed(trigger.secret, body, { at: new Date(Date.now() + 6 * 60 * 1000) }));
      expect(future.status).toBe(401);
    });
    it('missing signature headers', async () => {
      const res = await call('POST', `/v1/hooks/${trigger.id}`, { token: null, body });
      expect(res.status).toBe(401);
      expect((await res.json<any>()).error.message).toMatch(/Missing required headers/);
    });
  });

  it('a valid signature with a bad body answers 400 and leaves the webhook-id usable', async () => {
    const id = `fix-${crypto.randomUUID()}`;
    const bad = await post(trigger.id, signed(trigger.secret, { rowz: [] }, { id }));
    expect(bad.status).toBe(400);
    const fixed = await post(trigger.id, signed(trigger.secret, { rows: [[1, 0]] }, { id }));
    expect(fixed.status).toBe(202);
    expect((await fixed.json<any>()).duplicate).toBe(false);
  });

  it('rotation: the new secret works at once and the old one keeps working for the overlap', async () => {
    const t = await callJson('POST', '/v1/triggers', 201, { body: { name: 'rotating', model } });
    const rotated = await callJson('POST', `/v1/triggers/${t.id}/rotate-secret`, 200);
    expect(rotated.secret).not.toBe(t.secret);
    expect((await post(t.id, signed(rotated.secret, { rows: [[1, 1]] }))).status).toBe(202);
    expect((await post(t.id, signed(t.secret, { rows: [[1, 1]] }))).status).toBe(202);
    await env.DB.prepare('update triggers set previous_secret_expires_at = ? where id = ?')
      .bind(Date.now() - 1, t.id)
      .run();
    expect((await post(t.id, signed(t.secret, { rows: [[1, 1]] }))).status).toBe(401);
  });

  it('unknown and deleted triggers answer 404; creating one for an unknown model 404', async () => {
    expect((await post('trg_nope', signed(trigger.secret, { rows: [[1, 1]] }))).status).toBe(404);
    const t = await callJson('POST', '/v1/triggers', 201, { body: { name: 'short-lived', model } });
    expect((await call('DELETE', `/v1/triggers/${t.id}`)).status).toBe(204);
    expect((await post(t.id, signed(t.secret, { rows: [[1, 1]] }))).status).toBe(404);
    expect(
      (await callJson('POST', '/v1/triggers', 404, { body: { name: 'x', model: 'no-model-here' } })).error.code,
    ).toBe('model_not_found');
  });
});
