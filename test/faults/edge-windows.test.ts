import { env, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callJson, createKey, fixture, inWorkspace, registerUser, uniqueName, uploadRaw } from '../helpers';
import { send, sendJson, servicesOf } from './drive';
import { faultyEnv, type Faults } from './faulty-env';

/*
 * What a request waits for at the edge, and how long a change made elsewhere takes to be seen.
 * Each test serves from an isolate of its own (a faulty env's services) whose D1 calls are
 * counted, and changes D1 behind that isolate's back as another isolate would.
 */

afterEach(() => vi.restoreAllMocks());

const REFRESH_MS = Number(env.REGISTRY_CACHE_TTL_SECONDS ?? 5) * 1000;
const BOUND_MS = Number(env.CACHE_STALE_LIMIT_SECONDS ?? 10) * 1000;

const inferBody = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 1] }] };
/** version 1: y = 2·x1 − x2 + 0.5; version 2: y = x1 + x2 */
const ANSWER = { 1: 1.5, 2: 2 } as const;

async function twoVersions(token?: string): Promise<string> {
  const name = uniqueName('edge');
  expect((await uploadRaw(name, fixture('generated/regressor.onnx'), { token })).status).toBe(201);
  expect((await uploadRaw(name, fixture('generated/regressor2.onnx'), { token })).status).toBe(201);
  return name;
}

/** Statements the isolate sent to D1 whose SQL matches, since `from` calls ago. */
function queries(faults: Faults, pattern: RegExp): number {
  return ['first', 'all', 'run', 'raw', 'batch']
    .flatMap((method) => (faults.log.get(`DB.${method}`) ?? []) as string[])
    .filter((sql) => pattern.test(sql)).length;
}

/** The one query that resolves a model and its version (an alias's, with its routes, joins model_aliases first). */
const RESOLUTION = /from "models" left join "model_(versions|aliases)"/;
const KEY_LOOKUP = /from "api_keys" inner join "workspaces"/;

/** A still clock the test moves. */
function clock() {
  let now = Date.now();
  vi.spyOn(Date, 'now').mockImplementation(() => now);
  return { advance: (ms: number) => (now += ms) };
}

async function predict(faults: Faults, token: string, path: string) {
  const { response, ctx } = await send(faults.env, 'POST', path, {
    body: inferBody,
    headers: { authorization: `Bearer ${token}`, 'cache-control': 'no-store' },
  });
  const body = await response.json<any>();
  return { status: response.status, body, version: Number(body.model_version), ctx, headers: response.headers };
}

describe('at the edge, a warm prediction waits for nothing far away', () => {
  it('a refresh never delays a request: D1 that never answers is not waited for', async () => {
    const name = await twoVersions();
    const { key } = await createKey(['predict']);
    const faults = faultyEnv();
    const time = clock();
    expect((await predict(faults, key, `/v2/models/${name}/infer`)).status).toBe(200);
    time.advance(REFRESH_MS + 1);
    faults.add({ binding: 'DB', method: ['first', 'all', 'run', 'raw', 'batch'], fault: 'hang' });
    const answer = await predict(faults, key, `/v2/models/${name}/infer`);
    expect(answer.status).toBe(200);
    expect(answer.body.outputs[0].data).toEqual([ANSWER[2]]);
    // The refreshes started (and hang, after the response): one for the key, one for the model.
    expect(queries(faults, KEY_LOOKUP)).toBe(2);
    expect(queries(faults, RESOLUTION)).toBe(2);
  });

  it('two hundred concurrent requests at a refresh make one query for their key and one for their model', async () => {
    const name = await twoVersions();
    const { key } = await createKey(['predict']);
    const faults = faultyEnv();
    const time = clock();
    await predict(faults, key, `/v2/models/${name}/infer`);
    const before = { keys: queries(faults, KEY_LOOKUP), models: queries(faults, RESOLUTION) };
    time.advance(REFRESH_MS + 1);
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => predict(faults, key, `/v2/models/${name}/infer`)),
    );
    await Promise.all(answers.map((a) => waitOnExecutionContext(a.ctx)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(queries(faults, KEY_LOOKUP) - before.keys).toBe(1);
    expect(queries(faults, RESOLUTION) - before.models).toBe(1);
  });

  it('a cold isolate makes one query per key and per model for two hundred first requests', async () => {
    const name = await twoVersions();
    const { key } = await createKey(['predict']);
    const faults = faultyEnv();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => predict(faults, key, `/v2/models/${name}/infer`)),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(queries(faults, KEY_LOOKUP)).toBe(1);
    expect(queries(faults, RESOLUTION)).toBe(1);
    expect(servicesOf(faults.env).sessions.stats().loads).toBe(1);
  });
});

describe('changes made elsewhere take effect within the bound', () => {
  it('a moved alias: seen after the next refresh, and never later than CACHE_STALE_LIMIT_SECONDS', async () => {
    const name = await twoVersions();
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 1 } });
    const { key } = await createKey(['predict']);
    const faults = faultyEnv();
    const time = clock();
    const path = `/v2/models/${name}/infer`;
    expect((await predict(faults, key, path)).version).toBe(1);
    const moveTo = async (version: number) =>
      env.DB.prepare(
        `update model_aliases set version_id = (select v.id from model_versions v join models m on m.id = v.model_id
          where m.name = ?1 and v.version = ?2)
         where alias = 'production' and model_id = (select id from models where name = ?1)`,
      )
        .bind(name, version)
        .run();
    await moveTo(2); // by another isolate
    expect((await predict(faults, key, path)).version).toBe(1); // this one's copy is fresh
    time.advance(REFRESH_MS + 1);
    const stale = await predict(faults, key, path);
    expect(stale.version).toBe(1); // answered from the copy while the refresh runs…
    await waitOnExecutionContext(stale.ctx);
    expect((await predict(faults, key, path)).version).toBe(2); // …which brought the move

    await moveTo(1);
    time.advance(BOUND_MS + 1); // no request for longer than the bound: the copy is not served
    const bounded = await predict(faults, key, path);
    expect(bounded.version).toBe(1);
    expect(bounded.body.outputs[0].data).toEqual([ANSWER[1]]);
  });

  it('a removed member: her token stops working within the bound', async () => {
    const owner = await registerUser();
    const member = await registerUser();
    await env.DB.prepare("insert into memberships (workspace_id, user_id, role, created_at) values (?, ?, 'member', ?)")
      .bind(owner.workspaceId, member.userId, Date.now())
      .run();
    const faults = faultyEnv();
    const time = clock();
    const list = () =>
      sendJson(faults.env, 'GET', '/v1/models', {
        headers: { authorization: `Bearer ${member.token}`, ...inWorkspace(owner.workspaceId) },
      });
    expect((await list()).status).toBe(200);
    await env.DB.prepare('delete from memberships where workspace_id = ? and user_id = ?')
      .bind(owner.workspaceId, member.userId)
      .run();
    time.advance(BOUND_MS + 1);
    const refused = await list();
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('workspace_not_found');
  });

  it('a lowered limit: enforced within the bound, and a 429 still says when to retry', async () => {
    const user = await registerUser();
    const name = await twoVersions(user.token);
    const faults = faultyEnv();
    const time = clock();
    const path = `/v2/models/${name}/infer`;
    expect((await predict(faults, user.token, path)).status).toBe(200);
    await env.DB.prepare('update workspaces set prediction_limit = 1, rate_window_seconds = 60 where id = ?')
      .bind(user.workspaceId)
      .run();
    time.advance(BOUND_MS + 1);
    expect((await predict(faults, user.token, path)).status).toBe(200);
    const limited = await predict(faults, user.token, path);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-limit')).toBe('1');
  });
});
