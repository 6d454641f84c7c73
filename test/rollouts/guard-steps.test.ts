import { env } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rollBackRoutes, stepRoutes } from '../../workers/registry/alias-rollouts';
import { readAlias } from '../../workers/registry/aliases';
import { findModel } from '../../workers/registry/models';
import { captureWebhookQueue, consume, drain, type Captured } from '../batch/queue-driver';
import { regressorWithBias } from '../concurrency/regressor-versions';
import { callJson, fixture, registerUser, testWorker, uniqueName, uploadRaw, type TestUser } from '../helpers';
import { quietEnv, Rollout } from './support';

/*
 * The guard and steps: a candidate that errors is rolled back within one check (the cron's, or
 * the one an isolate runs after writing its counts), with the event and the audit entry; steps
 * advance on a controlled clock while the guard holds and promote at 100; promote and rollback
 * by hand; and a check never applies to an alias that changed after it was judged.
 */

// Deliveries are captured, not sent: a test hands them to the consumer when it wants them sent.
let webhookQueue: Captured;
beforeEach(() => {
  webhookQueue = captureWebhookQueue();
});
afterEach(() => vi.restoreAllMocks());

const MINUTE = 60_000;
const ROW: [number, number] = [1, 2];

interface Tenant {
  user: TestUser;
  hook: { id: string; secret: string };
}

/** A user's own workspace with a webhook endpoint for the rollout events. */
async function tenant(): Promise<Tenant> {
  const user = await registerUser('rollout');
  const hook = await callJson('POST', '/v1/webhooks', 201, {
    token: user.token,
    body: { url: 'http://127.0.0.1:9/rollouts', events: ['alias.rolled_back', 'alias.promoted', 'alias.moved'] },
  });
  return { user, hook };
}

async function model(t: Tenant, files: Uint8Array[], prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  for (const bytes of files) expect((await uploadRaw(name, bytes, { token: t.user.token })).status).toBe(201);
  return name;
}

/** The events recorded for the tenant's endpoint, oldest first. */
async function events(t: Tenant, type?: string): Promise<any[]> {
  const { results } = await env.DB.prepare(
    'select event, payload from webhook_deliveries where endpoint_id = ? order by created_at, rowid',
  )
    .bind(t.hook.id)
    .all<{ event: string; payload: string }>();
  return results.filter((r) => type === undefined || r.event === type).map((r) => JSON.parse(r.payload));
}

const alias = (t: Tenant, name: string) =>
  callJson('GET', `/v1/models/${name}/aliases/production`, 200, { token: t.user.token });

const audit = async (t: Tenant, action: string) =>
  (await callJson('GET', `/v1/audit-log?action=${action}`, 200, { token: t.user.token })).entries;

/** `n` requests through the alias without a key; the versions that answered (400s as 0). */
async function traffic(rollout: Rollout, t: Tenant, name: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const sent = await rollout.send('POST', `/v2/models/${name}/infer`, {
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: ROW }] },
      token: t.user.token,
    });
    out.push(sent.status === 200 ? Number(sent.json.model_version) : 0);
  }
  return out;
}

describe('guard', { timeout: 120_000 }, () => {
  it('rolls a candidate that errors back within one check, and sends the event with the scorecard', async () => {
    const t = await tenant();
    // Version 2 takes other inputs: every request it gets answers 400.
    const name = await model(t, [regressorWithBias(1), fixture('generated/multi.onnx')], 'guard');
    const rollout = new Rollout();
    await rollout.sendJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      token: t.user.token,
      body: {
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
        guard: { min_requests: 20, max_error_rate: 0.1 },
      },
    });
    const before = await traffic(rollout, t, name, 80);
    expect(before.filter((v) => v === 0).length).toBeGreaterThanOrEqual(20);
    expect((await alias(t, name)).state.status).toBe('split');

    await rollout.cron(Date.now());
    const after = await alias(t, name);
    expect(after.routes).toEqual([
      { version: 1, weight: 100 },
      { version: 2, weight: 0 },
    ]);
    expect(after.state).toMatchObject({ status: 'rolled_back', next_step: null });
    expect(after.state.rollback).toEqual({
      by: 'guard',
      breaches: [{ route: 1, version: 2, limit: 'max_error_rate', value: 1, threshold: 0.1 }],
    });
    const [event] = await events(t, 'alias.rolled_back');
    expect(event).toMatchObject({
      type: 'alias.rolled_back',
      data: {
        model: name,
        alias: 'production',
        version: 1,
        by: 'guard',
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
      },
    });
    const candidate = event.data.scorecard.routes[1];
    expect(candidate).toMatchObject({ version: 2, error_rate: 1, vs_first: { enough_requests: true } });
    expect(candidate.vs_first.error_rate).toMatchObject({ difference: 1, significant: true });
    expect(candidate.requests).toBe(before.filter((v) => v === 0).length);
    // Sent: signed for the tenant's endpoint.
    const sent: { body: string; headers: Record<string, string> }[] = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      sent.push({ body: await request.text(), headers: Object.fromEntries(request.headers) });
      return new Response('ok');
    });
    await consume('modelflare-webhooks', drain(webhookQueue));
    const delivered = sent.find((s) => JSON.parse(s.body).type === 'alias.rolled_back')!;
    expect(new Webhook(t.hook.secret).verify(delivered.body, delivered.headers)).toMatchObject({
      data: { model: name },
    });
    const [entry] = await audit(t, 'alias.rolled_back');
    expect(entry).toMatchObject({
      actor: { kind: 'system', id: 'rollouts' },
      target: `model:${name}/alias:production`,
      details: { by: 'guard' },
    });

    // From now on the first route serves everything; another check changes nothing.
    expect(new Set(await traffic(rollout, t, name, 30))).toEqual(new Set([1]));
    await rollout.cron(Date.now());
    expect(await events(t, 'alias.rolled_back')).toHaveLength(1);
  });

  it('also judges when an isolate writes its counts, without waiting for the cron', async () => {
    const t = await tenant();
    const name = await model(t, [regressorWithBias(1), fixture('generated/multi.onnx')], 'flush');
    // Counts written after every request, and judged each time (the suite writes at once).
    const rollout = new Rollout(quietEnv({ METRICS_FLUSH_SECONDS: '0', ROLLOUT_CHECK_SECONDS: '0' }), 3, true);
    await rollout.sendJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      token: t.user.token,
      body: {
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
        guard: { min_requests: 10, max_error_rate: 0.2 },
      },
    });
    const served = await traffic(rollout, t, name, 60);
    const failedBeforeRollback = served.filter((v) => v === 0).length;
    // Rolled back once the candidate had 10 requests: its 10th failure was the last one.
    expect(failedBeforeRollback).toBe(10);
    expect(served.slice(served.lastIndexOf(0) + 1).every((v) => v === 1)).toBe(true);
    expect((await alias(t, name)).state.rollback.breaches[0]).toMatchObject({ limit: 'max_error_rate', value: 1 });
    expect(await events(t, 'alias.rolled_back')).toHaveLength(1);
  });

  it('rolls back on an accuracy drop seen in feedback', async () => {
    const t = await tenant();
    const name = uniqueName('accuracy');
    await callJson('POST', '/v1/models', 201, {
      token: t.user.token,
      body: { name, task: 'classification', class_labels: ['left', 'right'], monitoring: { log_sample_rate: 1 } },
    });
    for (const file of ['classifier', 'classifier_flipped']) {
      expect((await uploadRaw(name, fixture(`generated/${file}.onnx`), { token: t.user.token })).status).toBe(201);
    }
    const rollout = new Rollout(undefined, 11);
    await rollout.sendJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      token: t.user.token,
      body: {
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
        guard: { min_requests: 5, max_accuracy_drop: 0.1, min_feedback: 5 },
      },
    });
    // The truth is what version 1 says (x1 > x2 is 'left'); the flipped version is always wrong.
    for (let i = 0; i < 40; i++) {
      const row = i % 2 ? [3, 1] : [1, 3];
      const sent = await rollout.send('POST', `/v1/models/${name}/predict`, {
        body: { instances: [row] },
        token: t.user.token,
        headers: { 'cache-control': 'no-store' },
      });
      const id = sent.headers.get('x-prediction-id')!;
      await callJson('POST', `/v1/predictions/${id}/feedback`, 201, {
        token: t.user.token,
        body: { actual: row[0]! > row[1]! ? 'left' : 'right' },
      });
    }
    const card = await rollout.sendJson('GET', `/v1/models/${name}/aliases/production/scorecard`, 200, {
      token: t.user.token,
    });
    expect(card.routes.map((r: any) => r.quality.accuracy)).toEqual([1, 0]);
    expect(card.routes[1].vs_first.accuracy).toMatchObject({ difference: -1, significant: true });
    await rollout.cron(Date.now());
    expect((await alias(t, name)).state.rollback.breaches).toEqual([
      { route: 1, version: 2, limit: 'max_accuracy_drop', value: 1, threshold: 0.1 },
    ]);
  });
});

describe('steps', { timeout: 120_000 }, () => {
  it('move the last route to the next step every step_minutes while the guard holds, and promote at 100', async () => {
    const t = await tenant();
    const name = await model(t, [regressorWithBias(1), regressorWithBias(2)], 'steps');
    const held = await model(t, [regressorWithBias(3), regressorWithBias(4)], 'held');
    const rollout = new Rollout(undefined, 5);
    const ramp = (min_requests: number) => ({
      routes: [
        { version: 1, weight: 90 },
        { version: 2, weight: 10 },
      ],
      guard: { min_requests, max_error_rate: 0.5, window_minutes: 1440 },
      steps: [10, 25, 50, 100],
      step_minutes: 30,
    });
    const set = await rollout.sendJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      token: t.user.token,
      body: ramp(5),
    });
    // This one's guard wants more traffic than it will get: its steps wait.
    await rollout.sendJson('PUT', `/v1/models/${held}/aliases/production`, 200, {
      token: t.user.token,
      body: ramp(1000),
    });
    const t0 = Date.parse(set.state.weights_changed_at);
    const weights = async (m = name) => (await alias(t, m)).routes?.map((r: any) => r.weight);

    await rollout.cron(t0 + 10 * MINUTE);
    expect(await weights()).toEqual([90, 10]);
    const served = await traffic(rollout, t, name, 150);
    await traffic(rollout, t, held, 20);
    expect(served.filter((v) => v === 2).length).toBeGreaterThanOrEqual(5);

    await rollout.cron(t0 + 31 * MINUTE);
    expect(await weights()).toEqual([75, 25]);
    const stepped = await alias(t, name);
    expect(stepped.state).toMatchObject({ status: 'ramping', next_step: 50 });
    expect(Date.parse(stepped.state.next_step_at)).toBe(t0 + 61 * MINUTE);
    expect(await weights(held)).toEqual([90, 10]);
    await rollout.cron(t0 + 40 * MINUTE);
    expect(await weights()).toEqual([75, 25]);
    await rollout.cron(t0 + 62 * MINUTE);
    expect(await weights()).toEqual([50, 50]);
    const [entry] = await audit(t, 'alias.stepped');
    expect(entry).toMatchObject({
      actor: { kind: 'system' },
      details: {
        to: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
      },
    });

    await rollout.cron(t0 + 93 * MINUTE);
    const promoted = await alias(t, name);
    expect(promoted).toMatchObject({ version: 2, routes: null, guard: null, steps: null, state: { status: 'plain' } });
    expect((await events(t, 'alias.promoted')).map((e) => e.data)).toEqual([
      {
        model: name,
        alias: 'production',
        version: 2,
        by: 'steps',
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
      },
    ]);
    expect((await events(t, 'alias.moved')).at(-1).data).toMatchObject({
      model: name,
      version: 2,
      previous_version: 1,
    });
    expect(new Set(await traffic(rollout, t, name, 20))).toEqual(new Set([2]));
    expect(await weights(held)).toEqual([90, 10]);
  });

  it('never applies a step or a rollback judged on an alias that has changed since', async () => {
    const t = await tenant();
    const name = await model(t, [regressorWithBias(1), regressorWithBias(2), regressorWithBias(3)], 'race');
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      token: t.user.token,
      body: {
        routes: [
          { version: 1, weight: 90 },
          { version: 2, weight: 10 },
        ],
        steps: [50],
        step_minutes: 1,
      },
    });
    const worker = testWorker();
    const deps = worker.deps();
    const found = (await findModel(deps, { workspaceId: t.user.workspaceId, actorId: 'test' }, name))!;
    const judged = (await readAlias(deps, found, 'production'))!;
    // Someone sets other routes between the judgement and the write.
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      token: t.user.token,
      body: {
        routes: [
          { version: 1, weight: 70 },
          { version: 3, weight: 30 },
        ],
      },
    });
    expect(await stepRoutes(deps, t.user.workspaceId, judged, [50, 50], 'test')).toBe(false);
    expect(await rollBackRoutes(deps, t.user.workspaceId, judged, { by: 'guard', breaches: [] }, 'test')).toBe(false);
    const now = await alias(t, name);
    expect(now.routes).toEqual([
      { version: 1, weight: 70 },
      { version: 3, weight: 30 },
    ]);
    expect(now.state.status).toBe('split');
  });
});

describe('promote and rollback by hand', { timeout: 120_000 }, () => {
  it('rolls back to the first route, and promotes a route to a plain alias', async () => {
    const t = await tenant();
    const name = await model(t, [regressorWithBias(1), regressorWithBias(2), regressorWithBias(3)], 'hand');
    const rollout = new Rollout(undefined, 9);
    const path = `/v1/models/${name}/aliases/production`;
    const split = {
      routes: [
        { version: 1, weight: 60 },
        { version: 2, weight: 30 },
        { version: 3, weight: 10 },
      ],
    };
    await rollout.sendJson('PUT', path, 200, { token: t.user.token, body: split });

    const rolled = await rollout.sendJson('POST', `${path}/rollback`, 200, { token: t.user.token });
    expect(rolled.routes).toEqual([
      { version: 1, weight: 100 },
      { version: 2, weight: 0 },
      { version: 3, weight: 0 },
    ]);
    expect(rolled.state).toMatchObject({ status: 'rolled_back', rollback: { by: 'hand', breaches: [] } });
    expect(new Set(await traffic(rollout, t, name, 20))).toEqual(new Set([1]));
    // Again: answered as it stands, no second event.
    const again = await rollout.sendJson('POST', `${path}/rollback`, 200, { token: t.user.token });
    expect(again.state.revision).toBe(rolled.state.revision);
    const [rollback] = await events(t, 'alias.rolled_back');
    expect(rollback.data).toMatchObject({ by: 'hand', version: 1 });
    expect(rollback.data.scorecard.routes).toHaveLength(3);
    expect(await events(t, 'alias.rolled_back')).toHaveLength(1);
    expect((await audit(t, 'alias.rolled_back'))[0]).toMatchObject({ actor: { kind: 'user', id: t.user.userId } });

    await rollout.sendJson('PUT', path, 200, { token: t.user.token, body: split });
    const refused = await rollout.sendJson('POST', `${path}/promote`, 409, {
      token: t.user.token,
      body: { version: 7 },
    });
    expect(refused.error.message).toBe("version 7 is not a route of alias 'production' (its routes: 1, 2, 3)");
    const named = await rollout.sendJson('POST', `${path}/promote`, 200, { token: t.user.token, body: { version: 2 } });
    expect(named).toMatchObject({ version: 2, routes: null, state: { status: 'plain' } });
    expect(new Set(await traffic(rollout, t, name, 10))).toEqual(new Set([2]));
    const plain = await rollout.sendJson('POST', `${path}/promote`, 409, { token: t.user.token });
    expect(plain.error).toMatchObject({
      code: 'alias_not_split',
      message: `alias 'production' of model '${name}' points at one version (2); it has no routes`,
    });
    expect((await rollout.sendJson('POST', `${path}/rollback`, 409, { token: t.user.token })).error.code).toBe(
      'alias_not_split',
    );
    await rollout.sendJson('PUT', path, 200, { token: t.user.token, body: split });
    // No body: the last route.
    expect(await rollout.sendJson('POST', `${path}/promote`, 200, { token: t.user.token })).toMatchObject({
      version: 3,
    });
    expect((await events(t, 'alias.promoted')).map((e) => [e.data.version, e.data.by])).toEqual([
      [2, 'hand'],
      [3, 'hand'],
    ]);
    expect((await audit(t, 'alias.promoted'))[0]).toMatchObject({ details: { version: 3, by: 'hand' } });
  });
});
