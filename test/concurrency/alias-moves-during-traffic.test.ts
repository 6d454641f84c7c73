import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { callJson, uniqueName, seeded } from '../helpers';
import { ask, ROW_SETS, shuffle, stagger, uploadVersions, type Answer, type Route } from './regressor-versions';

/*
 * Predictions through an alias while other requests move it. Each version's bias is in its
 * outputs, so a response labelled with one version but computed (or cached) by another, or
 * mixing rows from two versions, is caught.
 */

const WAVES = 6;
const PREDICTIONS_PER_WAVE = 100;
const MOVES_PER_WAVE = 10;
const CACHE_MODES = [undefined, 'no-cache', 'no-store'] as const;

interface Checked {
  answers: number;
  hits: number;
  versionsSeen: Set<number>;
  byRoute: Record<Route, number>;
}

/** Fails with the response when its label and its outputs disagree, or its rows disagree. */
function expectConsistent(answer: Answer, biasByVersion: Map<number, number>, allowed: Set<number>) {
  expect(answer.status, answer.body).toBe(200);
  expect(allowed.has(answer.version), `version ${answer.version} was never a target: ${answer.body}`).toBe(true);
  const expected = biasByVersion.get(answer.version);
  expect(answer.biases, `v${answer.version} (${answer.cache}) answered ${answer.body}`).toEqual(
    answer.biases.map(() => expected),
  );
}

async function target(name: string, alias: string): Promise<number> {
  return (await callJson('GET', `/v1/models/${name}/versions/${alias}`, 200)).version;
}

// Hundreds of requests on two shared cores: a budget, not a speed claim.
describe('alias moves during traffic', { timeout: 120_000 }, () => {
  it('never labels one version’s outputs with another, and serves the last target once moves settle', async () => {
    const name = uniqueName('alias-traffic');
    const biasByVersion = await uploadVersions(name, [100, 200, 300]);
    const versions = [...biasByVersion.keys()];
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: versions[0] } });
    const random = seeded(0xa11a5);
    const checked: Checked = { answers: 0, hits: 0, versionsSeen: new Set(), byRoute: { v2: 0, predict: 0 } };

    for (let wave = 0; wave < WAVES; wave += 1) {
      const before = await target(name, 'production');
      const moveTargets = Array.from({ length: MOVES_PER_WAVE }, () => versions[Math.floor(random() * 3)]!);
      const allowed = new Set([before, ...moveTargets]);
      const moves = moveTargets.map((version) => async () => {
        await stagger(random);
        await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version } });
      });
      const predictions = Array.from({ length: PREDICTIONS_PER_WAVE }, () => {
        const route: Route = random() < 0.5 ? 'v2' : 'predict';
        // Without a version the model answers with its production alias, so both spellings move.
        const ref = random() < 0.7 ? 'production' : undefined;
        const cacheControl = CACHE_MODES[Math.floor(random() * CACHE_MODES.length)];
        const rows = ROW_SETS[Math.floor(random() * ROW_SETS.length)]!;
        return async () => {
          await stagger(random);
          const answer = await ask(route, name, ref, rows, cacheControl);
          expectConsistent(answer, biasByVersion, allowed);
          checked.answers += 1;
          checked.versionsSeen.add(answer.version);
          checked.byRoute[route] += 1;
          if (answer.cache === 'HIT') checked.hits += 1;
        };
      });
      await Promise.all(shuffle([...moves, ...predictions], random).map((op) => op()));

      // Settled: this isolate made the moves, so its next requests follow the final target.
      const settled = await target(name, 'production');
      for (const route of ['v2', 'predict'] as const) {
        for (const cacheControl of CACHE_MODES) {
          for (const ref of ['production', undefined]) {
            const answer = await ask(route, name, ref, ROW_SETS[0]!, cacheControl);
            expectConsistent(answer, biasByVersion, new Set([settled]));
            checked.answers += 1;
            checked.byRoute[route] += 1;
            if (answer.cache === 'HIT') checked.hits += 1;
          }
        }
      }
    }

    console.info(
      `alias moves during traffic: ${JSON.stringify({ ...checked, versionsSeen: [...checked.versionsSeen] })}`,
    );
    expect(checked.answers).toBe(WAVES * (PREDICTIONS_PER_WAVE + 12));
    // The moves were felt: answers came from every version during the waves.
    expect(checked.versionsSeen.size).toBe(3);
    // The cache was in play: some answers came from it, and none was another version's.
    expect(checked.hits).toBeGreaterThan(0);
  });

  it('stays consistent while another isolate’s move has not reached this one yet', async () => {
    const name = uniqueName('alias-remote');
    const biasByVersion = await uploadVersions(name, [40, 50]);
    const [v1, v2] = [...biasByVersion.keys()] as [number, number];
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: v1 } });
    const warm = await ask('v2', name, 'production', ROW_SETS[0]!);
    expectConsistent(warm, biasByVersion, new Set([v1]));
    // Another isolate's move is a D1 write this isolate hears nothing about: its resolution may
    // lag for REGISTRY_CACHE_TTL_SECONDS, but every answer must still be one version's, whole.
    await env.DB.prepare(
      `update model_aliases set version_id = (select id from model_versions where model_id = model_aliases.model_id and version = ?)
       where alias = 'production' and model_id = (select id from models where name = ?)`,
    )
      .bind(v2, name)
      .run();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ask(i % 2 ? 'v2' : 'predict', name, i % 4 < 2 ? 'production' : undefined, ROW_SETS[i % 3]!),
      ),
    );
    for (const answer of answers) expectConsistent(answer, biasByVersion, new Set([v1, v2]));
    expect(answers).toHaveLength(40);
  });

  it('pins numbered versions while the alias moves: a number always answers with that file', async () => {
    const name = uniqueName('alias-pinned');
    const biasByVersion = await uploadVersions(name, [7, 8]);
    const [v1, v2] = [...biasByVersion.keys()] as [number, number];
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: v1 } });
    const random = seeded(0x91);
    let answers = 0;
    const ops = [
      ...Array.from({ length: 8 }, (_, i) => async () => {
        await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: i % 2 ? v1 : v2 } });
      }),
      ...Array.from({ length: 60 }, (_, i) => async () => {
        const pinned = i % 2 ? v1 : v2;
        await stagger(random);
        const answer = await ask(i % 3 ? 'v2' : 'predict', name, String(pinned), ROW_SETS[i % 3]!);
        expectConsistent(answer, biasByVersion, new Set([pinned]));
        answers += 1;
      }),
    ];
    await Promise.all(shuffle(ops, random).map((op) => op()));
    expect(answers).toBe(60);
  });
});
