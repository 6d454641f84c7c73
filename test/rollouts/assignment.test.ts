import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, callJson, createKey, registerUser, uniqueName, uploadRaw, waitForJob } from '../helpers';
import { regressorWithBias, uploadVersions } from '../concurrency/regressor-versions';
import { binomialBounds, inferRow, putAlias, quietEnv, Rollout, tally } from './support';

/*
 * Assignment through a split alias, end to end: the share of 10,000 requests without a key
 * each route gets (a seeded draw, within binomial bounds), sticky keys, keys moving only to the
 * route whose weight was raised, and everything that follows an alias following the split.
 */

afterEach(() => vi.restoreAllMocks());

/** A regressor per version whose bias is 10 × its version number, so an answer names its file. */
async function splitModel(versions: number, prefix = 'assign'): Promise<string> {
  const name = uniqueName(prefix);
  await uploadVersions(
    name,
    Array.from({ length: versions }, (_, i) => 10 * (i + 1)),
  );
  return name;
}

const ask = (rollout: Rollout, path: string, key?: string, row: [number, number] = [1, 2]) =>
  inferRow(rollout, path, row, key === undefined ? {} : { 'modelflare-routing-key': key });

describe('assignment', () => {
  it(
    'splits 10,000 requests without a key by weight, within binomial bounds (seeded)',
    { timeout: 180_000 },
    async () => {
      const name = await splitModel(3);
      await putAlias(name, 'production', {
        routes: [
          { version: 1, weight: 60 },
          { version: 2, weight: 30 },
          { version: 3, weight: 10 },
        ],
      });
      const rollout = new Rollout(quietEnv(), 0x5eed);
      const N = 10_000;
      const served: number[] = [];
      const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] };
      for (let i = 0; i < N; i += 50) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => rollout.send('POST', `/v2/models/${name}/infer`, { body, settle: false })),
        );
        for (const a of answers) {
          expect(a.status, a.text).toBe(200);
          const version = Number(a.json.model_version);
          // The answer names the version that computed it, and the route it took.
          expect(a.json.outputs[0].data[0] - (2 * 1 - 2)).toBeCloseTo(10 * version, 4);
          expect(Number(a.headers.get('modelflare-route'))).toBe(version - 1);
          served.push(version);
        }
      }
      const counts = tally(served);
      for (const [version, p] of [
        [1, 0.6],
        [2, 0.3],
        [3, 0.1],
      ] as const) {
        const [low, high] = binomialBounds(N, p);
        expect(counts.get(version), `version ${version}: ${counts.get(version)} of ${N}`).toBeGreaterThan(low);
        expect(counts.get(version)).toBeLessThan(high);
      }
    },
  );

  it(
    'keeps a key on its version, and raising a weight moves only keys from other routes to it',
    { timeout: 120_000 },
    async () => {
      const name = await splitModel(3, 'sticky');
      const rollout = new Rollout(quietEnv());
      const put = (body: unknown) => rollout.sendJson('PUT', `/v1/models/${name}/aliases/canary`, 200, { body });
      const keys = Array.from({ length: 300 }, (_, i) => `user-${i}`);
      const assigned = async () => {
        const out = new Map<string, number>();
        for (const key of keys)
          out.set(key, (await ask(rollout, `/v2/models/${name}/versions/canary/infer`, key)).version);
        return out;
      };
      await put({
        routes: [
          { version: 1, weight: 90 },
          { version: 2, weight: 10 },
        ],
      });
      const first = await assigned();
      expect(await assigned()).toEqual(first);
      // Another isolate, cold, assigns the same way: the key and the alias decide, nothing local.
      const elsewhere = new Rollout(quietEnv(), 99);
      for (const key of keys.slice(0, 30)) {
        expect((await ask(elsewhere, `/v2/models/${name}/versions/canary/infer`, key)).version).toBe(first.get(key));
      }

      await put({
        routes: [
          { version: 1, weight: 75 },
          { version: 2, weight: 25 },
        ],
      });
      const raised = await assigned();
      const moved = keys.filter((k) => raised.get(k) !== first.get(k));
      expect(moved.every((k) => first.get(k) === 1 && raised.get(k) === 2)).toBe(true);
      // About (25 − 10) / 90 of the keys on version 1 moved: some, not all.
      expect(moved.length).toBeGreaterThan(10);
      expect(moved.length).toBeLessThan(100);

      // Three routes, the others giving up their share in proportion (80:10 → 40:5): only to the third.
      await put({
        routes: [
          { version: 1, weight: 80 },
          { version: 2, weight: 10 },
          { version: 3, weight: 10 },
        ],
      });
      const before = await assigned();
      await put({
        routes: [
          { version: 1, weight: 40 },
          { version: 2, weight: 5 },
          { version: 3, weight: 55 },
        ],
      });
      const after = await assigned();
      const changed = keys.filter((k) => after.get(k) !== before.get(k));
      expect(changed.length).toBeGreaterThan(50);
      expect(changed.every((k) => after.get(k) === 3)).toBe(true);
    },
  );

  it(
    'everything that follows an alias follows its split; numbered versions and batch jobs do not',
    { timeout: 120_000 },
    async () => {
      const name = await splitModel(2, 'follow');
      await putAlias(name, 'production', {
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
      });
      const rollout = new Rollout(undefined, 7);
      const seen = { byName: new Set<number>(), byAlias: new Set<number>(), instances: new Set<number>() };
      for (let i = 0; i < 40; i++) {
        seen.byName.add((await ask(rollout, `/v2/models/${name}/infer`)).version);
        seen.byAlias.add((await ask(rollout, `/v2/models/${name}/versions/production/infer`)).version);
        const predicted = await rollout.send('POST', `/v1/models/${name}/predict`, {
          body: { instances: [[1, 2]] },
          headers: { 'cache-control': 'no-store' },
        });
        expect(predicted.json.predictions[0]).toBeCloseTo(10 * predicted.json.model_version, 4);
        expect(Number(predicted.headers.get('modelflare-route'))).toBe(predicted.json.model_version - 1);
        seen.instances.add(predicted.json.model_version);
      }
      expect(seen).toEqual({ byName: new Set([1, 2]), byAlias: new Set([1, 2]), instances: new Set([1, 2]) });
      // A key keeps the instances API on one route too.
      const keyed = new Set<number>();
      for (let i = 0; i < 10; i++) {
        const sent = await rollout.send('POST', `/v1/models/${name}/predict`, {
          body: { instances: [[1, 2]] },
          headers: { 'modelflare-routing-key': 'acct-7' },
        });
        keyed.add(sent.json.model_version);
      }
      expect(keyed.size).toBe(1);

      // A number is a number: no split, no route header.
      const pinned = await rollout.send('POST', `/v2/models/${name}/versions/2/infer`, {
        body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] },
      });
      expect(pinned.json.model_version).toBe('2');
      expect(pinned.headers.get('modelflare-route')).toBeNull();
      // Metadata reads the first route; a job pins the first route unless it names another.
      expect((await callJson('GET', `/v2/models/${name}`, 200)).inputs[0].name).toBe('x');
      const job = await callJson('POST', '/v1/jobs', 202, { body: { model: name, input: { rows: [[1, 2]] } } });
      expect(job).toMatchObject({ version: 1 });
      const named = await callJson('POST', '/v1/jobs', 202, {
        body: { model: name, version: '2', input: { rows: [[1, 2]] } },
      });
      expect(named).toMatchObject({ version: 2 });
      expect((await waitForJob(job.id)).status).toBe('succeeded');
    },
  );

  it('refuses a routing key it cannot take, naming the header', async () => {
    const name = await splitModel(2, 'badkey');
    const rollout = new Rollout();
    const sent = await rollout.send('POST', `/v2/models/${name}/infer`, {
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] },
      headers: { 'modelflare-routing-key': 'k'.repeat(257) },
    });
    expect(sent.status).toBe(400);
    expect(sent.json.error).toBe("header 'Modelflare-Routing-Key': 1 to 256 characters");
  });

  it('a warm prediction through a split with a shadow reads nothing from D1', async () => {
    const user = await registerUser();
    const name = uniqueName('warm');
    for (const bias of [1, 2, 3]) {
      expect((await uploadRaw(name, regressorWithBias(bias), { token: user.token })).status).toBe(201);
    }
    await putAlias(
      name,
      'production',
      {
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
        shadow: { version: 3, percent: 100 },
      },
      200,
      user.token,
    );
    const { key } = await createKey(['predict'], { token: user.token });
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] };
    const predict = async () => {
      const res = await call('POST', `/v2/models/${name}/infer`, {
        token: key,
        body,
        headers: { 'cache-control': 'no-store' },
      });
      expect(res.status).toBe(200);
      return res;
    };
    // Warm: both routes have served (each version's first answer reads its drift plan once).
    const warmed = new Set<string | null>();
    while (warmed.size < 2) warmed.add((await predict()).headers.get('modelflare-route'));
    const statements: string[] = [];
    const prepare = env.DB.prepare.bind(env.DB);
    vi.spyOn(env.DB, 'prepare').mockImplementation((sql: string) => {
      statements.push(sql);
      return prepare(sql);
    });
    const routes = new Set<string | null>();
    for (let i = 0; i < 20; i++) routes.add((await predict()).headers.get('modelflare-route'));
    expect(statements.filter((sql) => /^\s*select/i.test(sql))).toEqual([]);
    expect(routes).toEqual(new Set(['0', '1']));
  });
});
