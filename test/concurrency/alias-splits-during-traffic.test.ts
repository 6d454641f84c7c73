import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { call, callJson, seeded, uniqueName } from '../helpers';
import { ask, ROW_SETS, shuffle, stagger, uploadVersions, type Answer, type Route } from './regressor-versions';

/*
 * Predictions through a split alias while other requests change its routes, weights and
 * shadow, and roll it back. Each version's bias is in its outputs, so an answer computed by a
 * version the alias never routed to, or labelled with one version but computed by another, is
 * caught; once the changes settle, only the current routes with weight above 0 answer.
 */

const WAVES = 5;
const PREDICTIONS_PER_WAVE = 80;
const CHANGES_PER_WAVE = 8;

type Split = { routes: { version: number; weight: number }[]; shadow?: { version: number; percent: number } };

/** A random split of 2 to 3 of the versions, weights summing to 100 (sometimes a 0). */
function randomSplit(versions: number[], random: () => number): Split {
  const chosen = shuffle(versions, random).slice(0, 2 + Math.floor(random() * 2));
  const cut = chosen.map(() => Math.floor(random() * 101));
  const weights = cut.map((c) => c);
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const scaled = weights.map((w) => Math.floor((w * 100) / total));
  scaled[0]! += 100 - scaled.reduce((a, b) => a + b, 0);
  const rest = versions.filter((v) => !chosen.includes(v));
  return {
    routes: chosen.map((version, i) => ({ version, weight: scaled[i]! })),
    ...(rest.length > 0 && random() < 0.5 ? { shadow: { version: rest[0]!, percent: 50 } } : {}),
  };
}

const serving = (split: Split) => split.routes.filter((r) => r.weight > 0).map((r) => r.version);

function expectConsistent(answer: Answer, biasByVersion: Map<number, number>, allowed: Set<number>) {
  expect(answer.status, answer.body).toBe(200);
  expect(allowed.has(answer.version), `version ${answer.version} was never a route: ${answer.body}`).toBe(true);
  const expected = biasByVersion.get(answer.version);
  expect(answer.biases, `v${answer.version} answered ${answer.body}`).toEqual(answer.biases.map(() => expected));
}

async function routesNow(name: string): Promise<number[]> {
  const view = await callJson('GET', `/v1/models/${name}/aliases/production`, 200);
  return view.routes.filter((r: { weight: number }) => r.weight > 0).map((r: { version: number }) => r.version);
}

describe('alias splits change during traffic', { timeout: 180_000 }, () => {
  it('never serves a version outside the routes, and only the current ones once changes settle', async () => {
    const name = uniqueName('split-traffic');
    const biasByVersion = await uploadVersions(name, [100, 200, 300, 400]);
    const versions = [...biasByVersion.keys()];
    const random = seeded(0x5b117);
    let current = randomSplit(versions, random);
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: current });
    const seen = new Set<number>();
    let answers = 0;

    for (let wave = 0; wave < WAVES; wave += 1) {
      const changes = Array.from({ length: CHANGES_PER_WAVE }, () => randomSplit(versions, random));
      const allowed = new Set([...serving(current), ...changes.flatMap(serving)]);
      const ops = [
        ...changes.map((split, i) => async () => {
          await stagger(random);
          // Now and then a rollback instead: everything to that split's first route.
          await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: split });
          if (i % 3 === 2) {
            // A change that lands between its read and its write makes it step aside: 409, never half-applied.
            const res = await call('POST', `/v1/models/${name}/aliases/production/rollback`);
            const body = await res.json<any>();
            if (res.status !== 200) expect(body.error.code).toBe('alias_changed');
          }
        }),
        ...Array.from({ length: PREDICTIONS_PER_WAVE }, (_, i) => {
          const route: Route = random() < 0.5 ? 'v2' : 'predict';
          const ref = random() < 0.7 ? 'production' : undefined;
          const rows = ROW_SETS[i % ROW_SETS.length]!;
          const key = random() < 0.5 ? `user-${i % 7}` : undefined;
          return async () => {
            await stagger(random);
            const answer = key
              ? await keyed(route, name, ref, rows, key)
              : await ask(route, name, ref, rows, random() < 0.5 ? 'no-store' : undefined);
            expectConsistent(answer, biasByVersion, allowed);
            seen.add(answer.version);
            answers += 1;
          };
        }),
      ];
      await Promise.all(shuffle(ops, random).map((op) => op()));

      // Settled: this isolate made the changes, so its next requests follow the routes as they stand.
      const now = new Set(await routesNow(name));
      for (let i = 0; i < 30; i += 1) {
        const answer = await ask(i % 2 ? 'v2' : 'predict', name, i % 3 ? 'production' : undefined, ROW_SETS[i % 3]!);
        expectConsistent(answer, biasByVersion, now);
        answers += 1;
      }
      current = { routes: [...now].map((version) => ({ version, weight: 1 })) };
    }
    expect(answers).toBe(WAVES * (PREDICTIONS_PER_WAVE + 30));
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });

  it('stays within the old and the new routes while another isolate’s change has not reached this one', async () => {
    const name = uniqueName('split-remote');
    const biasByVersion = await uploadVersions(name, [11, 22, 33]);
    const [v1, v2, v3] = [...biasByVersion.keys()] as [number, number, number];
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      body: {
        routes: [
          { version: v1, weight: 50 },
          { version: v2, weight: 50 },
        ],
      },
    });
    for (const rows of ROW_SETS)
      expectConsistent(await ask('v2', name, 'production', rows), biasByVersion, new Set([v1, v2]));
    // Another isolate rolls it over to v3 (a D1 write this isolate hears nothing about).
    await env.DB.batch([
      env.DB.prepare(
        `update model_alias_routes set version_id = (select id from model_versions where model_id = model_alias_routes.model_id and version = ?)
         where position = 1 and alias = 'production' and model_id = (select id from models where name = ?)`,
      ).bind(v3, name),
      env.DB.prepare(
        `update model_alias_routes set share = case position when 0 then 0 else 100 end
         where alias = 'production' and model_id = (select id from models where name = ?)`,
      ).bind(name),
    ]);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ask(i % 2 ? 'v2' : 'predict', name, i % 4 < 2 ? 'production' : undefined, ROW_SETS[i % 3]!),
      ),
    );
    for (const answer of answers) expectConsistent(answer, biasByVersion, new Set([v1, v2, v3]));
  });
});

/** `ask` with a routing key. */
async function keyed(
  route: Route,
  name: string,
  ref: string | undefined,
  rows: number[][],
  key: string,
): Promise<Answer> {
  const at = ref === undefined ? '' : `/versions/${ref}`;
  const headers = { 'modelflare-routing-key': key };
  const res =
    route === 'v2'
      ? await call('POST', `/v2/models/${name}${at}/infer`, {
          body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 2], data: rows.flat() }] },
          headers,
        })
      : await call('POST', `/v1/models/${name}${at}/predict`, { body: { instances: rows }, headers });
  const body = await res.text();
  if (res.status !== 200) return { status: res.status, version: NaN, biases: [], cache: null, body };
  const json = JSON.parse(body);
  const ys: number[] = route === 'v2' ? json.outputs[0].data : json.predictions;
  return {
    status: res.status,
    version: Number(json.model_version),
    biases: rows.map(([x1, x2], i) => ys[i]! - (2 * x1! - x2!)),
    cache: res.headers.get('x-cache'),
    body,
  };
}
