import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { AUDIT_LOOKBACK_ENTRIES, auditOf } from '../../workers/audit/audit-log';
import { database } from '../../workers/storage/db';
import { regressorWithBias } from '../concurrency/regressor-versions';
import { callJson, createKey, fixture, registerUser, uniqueName, uploadRaw, type TestUser } from '../helpers';
import { Rollout } from './support';

/*
 * An alias's routes over time (GET …/aliases/{alias}/series): a line per version it routed to,
 * whose points add up to what the scorecard counts, a line per shadow version, and the
 * rollout's changes in the window read back from the audit log — what the dashboard draws.
 */

const ROW: [number, number] = [1, 2];
const sum = (points: { requests: number }[]) => points.reduce((n, p) => n + p.requests, 0);

async function model(user: TestUser, files: Uint8Array[]): Promise<string> {
  const name = uniqueName('series');
  for (const bytes of files) expect((await uploadRaw(name, bytes, { token: user.token })).status).toBe(201);
  return name;
}

async function traffic(rollout: Rollout, user: TestUser, name: string, n: number): Promise<number[]> {
  const served: number[] = [];
  for (let i = 0; i < n; i++) {
    const sent = await rollout.send('POST', `/v2/models/${name}/infer`, {
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: ROW }] },
      headers: { 'cache-control': 'no-store' },
      token: user.token,
    });
    served.push(sent.status === 200 ? Number(sent.json.model_version) : 0);
  }
  return served;
}

describe('alias series', { timeout: 120_000 }, () => {
  it('draws a line per route and per shadow, and marks the rollback and the promotion', async () => {
    const user = await registerUser('series');
    // Version 2 takes other inputs (every request it gets answers 400); version 3 shadows.
    const name = await model(user, [regressorWithBias(1), fixture('generated/multi.onnx'), regressorWithBias(5)]);
    const rollout = new Rollout(undefined, 7);
    const path = `/v1/models/${name}/aliases/production`;
    await rollout.sendJson('PUT', path, 200, {
      token: user.token,
      body: {
        routes: [
          { version: 1, weight: 60 },
          { version: 2, weight: 40 },
        ],
        shadow: { version: 3, percent: 100 },
        guard: { min_requests: 10, max_error_rate: 0.1 },
      },
    });
    // Before any traffic, both routes have a line (of zeros) and the change is there.
    const empty = await rollout.sendJson('GET', `${path}/series?window=15m`, 200, { token: user.token });
    expect(empty.routes.map((r: any) => [r.route, r.version, r.weight, sum(r.series)])).toEqual([
      [0, 1, 60, 0],
      [1, 2, 40, 0],
    ]);
    expect(empty.window.step_minutes).toBe(1);
    expect(empty.routes[0].series).toHaveLength(15);
    expect(empty.events).toMatchObject([
      {
        kind: 'set',
        actor: 'user',
        by: null,
        routes: [
          { version: 1, weight: 60 },
          { version: 2, weight: 40 },
        ],
      },
    ]);

    const served = await traffic(rollout, user, name, 40);
    const failed = served.filter((v) => v === 0).length;
    expect(failed).toBeGreaterThan(0);
    const series = await rollout.sendJson('GET', `${path}/series?window=1h`, 200, { token: user.token });
    const card = await rollout.sendJson('GET', `${path}/scorecard?window=1h`, 200, { token: user.token });
    // The points add up to what the scorecard counts, route by route.
    expect(series.routes.map((r: any) => sum(r.series))).toEqual(card.routes.map((r: any) => r.requests));
    expect(series.routes.map((r: any) => sum(r.series))).toEqual([40 - failed, failed]);
    for (const p of series.routes[1].series.filter((p: any) => p.requests > 0)) expect(p.error_rate).toBe(1);
    for (const p of series.routes[0].series.filter((p: any) => p.requests > 0)) expect(p.error_rate).toBe(0);
    // The shadow ran on every answered request (the candidate's 400s are not mirrored).
    expect(series.shadows).toHaveLength(1);
    expect(series.shadows[0]).toMatchObject({ version: 3, current: true });
    expect(sum(series.shadows[0].series)).toBe(card.shadow.requests);
    expect(card.shadow.requests).toBeGreaterThan(0);

    await rollout.cron(Date.now());
    await rollout.sendJson('POST', `${path}/promote`, 200, { token: user.token, body: { version: 1 } });
    const after = await rollout.sendJson('GET', `${path}/series?window=1h`, 200, { token: user.token });
    expect(after.events.map((e: any) => [e.kind, e.actor, e.by])).toEqual([
      ['set', 'user', null],
      ['rolled_back', 'system', 'guard'],
      ['promoted', 'user', 'hand'],
    ]);
    expect(after.events[1].routes).toEqual([
      { version: 1, weight: 100 },
      { version: 2, weight: 0 },
    ]);
    expect(after.events[2].routes).toEqual([{ version: 1, weight: 100 }]);
    // Plain now: the versions that served through it in the window keep their lines, as former routes.
    expect(after.routes.map((r: any) => [r.route, r.version, r.weight, sum(r.series)])).toEqual([
      [null, 1, null, 40 - failed],
      [null, 2, null, failed],
    ]);
    expect(after.shadows.map((s: any) => [s.version, s.current])).toEqual([[3, false]]);
  });

  it('marks each step of a ramp', async () => {
    const user = await registerUser('series-steps');
    const name = await model(user, [regressorWithBias(1), regressorWithBias(2)]);
    const rollout = new Rollout(undefined, 9);
    const path = `/v1/models/${name}/aliases/production`;
    const set = await rollout.sendJson('PUT', path, 200, {
      token: user.token,
      body: {
        routes: [
          { version: 1, weight: 90 },
          { version: 2, weight: 10 },
        ],
        steps: [10, 50, 100],
        step_minutes: 5,
      },
    });
    const t0 = Date.parse(set.state.weights_changed_at);
    await rollout.cron(t0 + 6 * 60_000);
    await rollout.cron(t0 + 12 * 60_000);
    const { events } = await rollout.sendJson('GET', `${path}/series`, 200, { token: user.token });
    expect(events.map((e: any) => [e.kind, e.actor, e.by, e.routes])).toEqual([
      [
        'set',
        'user',
        null,
        [
          { version: 1, weight: 90 },
          { version: 2, weight: 10 },
        ],
      ],
      [
        'stepped',
        'system',
        null,
        [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
      ],
      ['promoted', 'system', 'steps', [{ version: 2, weight: 100 }]],
    ]);
  });

  it('refuses a bad window, an alias that is not there and another workspace’s model; a read-only key may read', async () => {
    const user = await registerUser('series-refusals');
    const name = await model(user, [regressorWithBias(1), regressorWithBias(2)]);
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      token: user.token,
      body: {
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
      },
    });
    const bad = await callJson('GET', `/v1/models/${name}/aliases/production/series?window=90d`, 400, {
      token: user.token,
    });
    expect(bad.error.message).toContain('window');
    const missing = await callJson('GET', `/v1/models/${name}/aliases/nope/series`, 404, { token: user.token });
    expect(missing.error.message).toContain("alias 'nope'");
    const other = await registerUser('series-other');
    const foreign = await callJson('GET', `/v1/models/${name}/aliases/production/series`, 404, {
      token: other.token,
    });
    expect(foreign.error.code).toBe('model_not_found');
    const reader = await createKey(['models:read'], { token: user.token });
    const read = await callJson('GET', `/v1/models/${name}/aliases/production/series`, 200, { token: reader.key });
    expect(read.routes).toHaveLength(2);
  });
});

describe('auditOf', () => {
  it('finds a target’s entries since a time through pages of others, and reads no further back than its bound', async () => {
    const db = database(env.DB);
    const workspaceId = `ws_audit_${crypto.randomUUID().slice(0, 8)}`;
    const at = Date.now() - 10 * 60_000;
    const entry = (target: string, createdAt: number, action = 'alias.set') =>
      env.DB.prepare(
        `insert into audit_log (workspace_id, actor_kind, actor_id, action, target, details, request_id, created_at)
         values (?, 'admin', 'admin', ?, ?, '{}', 'req_test', ?)`,
      ).bind(workspaceId, action, target, createdAt);
    const fill = async (n: number, createdAt: number) => {
      for (let i = 0; i < n; i += 50) {
        await env.DB.batch(Array.from({ length: Math.min(50, n - i) }, () => entry('model:other', createdAt)));
      }
    };
    await env.DB.batch([entry('model:m/alias:a', at - 60_000), entry('model:m/alias:a', at)]);
    await env.DB.batch([entry('model:m/alias:a', at + 1, 'api_key.create')]);
    await fill(450, at + 2);
    // Three pages back: the entry at `at` is found, the one before `since` and other actions are not.
    const found = await auditOf(db, workspaceId, 'model:m/alias:a', at, ['alias.set']);
    expect(found.map((e) => e.createdAt)).toEqual([at]);
    // Beyond the bound, it is left out rather than read.
    await fill(AUDIT_LOOKBACK_ENTRIES, at + 3);
    expect(await auditOf(db, workspaceId, 'model:m/alias:a', at, ['alias.set'])).toEqual([]);
  });
});
