import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { call, sha256Hex, uniqueName, uploadRaw, seeded } from '../helpers';
import { registryViolations, storageViolations, strayRows } from './registry-invariants';
import { regressorWithBias, stagger, uploadVersions } from './regressor-versions';

/*
 * Alias moves, alias deletions, archives, restores, uploads and model archives fired at one
 * model at once, in orders fast-check draws from a fixed seed. After each round the registry
 * must be consistent (registry-invariants.ts) and every operation must have answered with
 * success or a clean refusal, never a 5xx.
 */

const SEED = 20240909;
const ROUNDS = 15;
const OPS_PER_ROUND = 24;
const ALIASES = ['production', 'staging', 'canary'] as const;
const START_VERSIONS = 4;

type Op =
  | { kind: 'set-alias'; alias: string; version: number }
  | { kind: 'delete-alias'; alias: string }
  | { kind: 'archive'; version: number }
  | { kind: 'restore'; version: number }
  | { kind: 'upload' }
  | { kind: 'archive-model'; archived: boolean };

const version = fc.integer({ min: 1, max: START_VERSIONS });
const alias = fc.constantFrom(...ALIASES);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('set-alias' as const), alias, version }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete-alias' as const), alias }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('archive' as const), version }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('restore' as const), version }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('upload' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('archive-model' as const), archived: fc.boolean() }) },
);

/** What each operation may answer while others race it: success, or a refusal that says why. */
const ALLOWED: Record<Op['kind'], Record<number, string[]>> = {
  'set-alias': { 200: [], 409: ['version_archived'], 404: ['model_archived', 'version_not_found'] },
  'delete-alias': { 200: [], 404: ['alias_not_found'] },
  archive: { 200: [], 409: ['version_has_aliases'] },
  restore: { 200: [] },
  upload: { 201: [], 409: ['model_archived'] },
  'archive-model': { 200: [] },
};

let nextBias = 10_000;

async function run(name: string, o: Op): Promise<Response> {
  switch (o.kind) {
    case 'set-alias':
      return call('PUT', `/v1/models/${name}/aliases/${o.alias}`, { body: { version: o.version } });
    case 'delete-alias':
      return call('DELETE', `/v1/models/${name}/aliases/${o.alias}`);
    case 'archive':
      return call('DELETE', `/v1/models/${name}/versions/${o.version}`);
    case 'restore':
      return call('PATCH', `/v1/models/${name}/versions/${o.version}`, { body: { archived: false } });
    case 'upload':
      return uploadRaw(name, regressorWithBias((nextBias += 1)));
    case 'archive-model':
      return call('PATCH', `/v1/models/${name}`, { body: { archived: o.archived } });
  }
}

/** Runs the operations at once; returns the answers no operation may give. */
async function race(name: string, ops: Op[], random: () => number): Promise<string[]> {
  const answers = await Promise.all(
    ops.map(async (o) => {
      // At most one turn apart: operations that start together collide inside D1.
      await stagger(random, 1);
      const res = await run(name, o);
      const body = await res.text();
      const codes = ALLOWED[o.kind][res.status];
      const code = res.status >= 400 ? (JSON.parse(body).error?.code as string) : undefined;
      const ok = codes !== undefined && (code === undefined || codes.includes(code));
      return ok ? null : `${JSON.stringify(o)} answered ${res.status} ${body}`;
    }),
  );
  return answers.filter((a): a is string => a !== null);
}

async function biasesBySha(biases: number[]): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  for (const b of biases) map.set(await sha256Hex(regressorWithBias(b)), b);
  return map;
}

describe('registry lifecycle races', { timeout: 300_000 }, () => {
  it('never lets an alias move and the archive of its target both succeed (40 pairs fired together)', async () => {
    const outcomes: Record<string, number> = {};
    const problems: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const name = uniqueName('pair');
      await uploadVersions(name, [i * 10 + 1, i * 10 + 2]);
      const [moved, archived] = await Promise.all([
        call('PUT', `/v1/models/${name}/aliases/production`, { body: { version: 2 } }),
        call('DELETE', `/v1/models/${name}/versions/2`),
      ]);
      const key = `${moved.status}/${archived.status}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      // One of the two must lose, with the refusal that says why.
      if (key === '200/409') expect((await archived.json<any>()).error.code).toBe('version_has_aliases');
      else if (key === '409/200') expect((await moved.json<any>()).error.code).toBe('version_archived');
      else problems.push(`pair ${i}: alias ${moved.status}, archive ${archived.status}`);
      problems.push(...(await storageViolations(name)).map((p) => `pair ${i}: ${p}`));
    }
    console.info(`alias/archive pairs: ${JSON.stringify(outcomes)}`);
    expect(problems).toEqual([]);
  });

  it(`stays consistent through ${ROUNDS} rounds of ${OPS_PER_ROUND} concurrent operations`, async () => {
    const rounds = fc.sample(fc.array(op, { minLength: OPS_PER_ROUND, maxLength: OPS_PER_ROUND }), {
      seed: SEED,
      numRuns: ROUNDS,
    });
    const random = seeded(SEED);
    const report: { round: number; problems: string[] }[] = [];
    const counts: Record<string, number> = {};
    for (const [round, ops] of rounds.entries()) {
      for (const o of ops) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
      const name = uniqueName('lifecycle');
      const start = Array.from({ length: START_VERSIONS }, (_, i) => round * 100 + i);
      await uploadVersions(name, start);
      // Start from a registry where aliases exist, so archives have something to collide with.
      for (const [i, a] of ALIASES.entries()) {
        expect((await call('PUT', `/v1/models/${name}/aliases/${a}`, { body: { version: i + 1 } })).status).toBe(200);
      }
      const bad = await race(name, ops, random);
      const restored = await call('PATCH', `/v1/models/${name}`, { body: { archived: false } });
      expect(restored.status).toBe(200);
      const uploaded = nextBias;
      const bySha = await biasesBySha([...start, ...Array.from({ length: 200 }, (_, i) => uploaded - i)]);
      const problems = [...bad, ...(await registryViolations(name, bySha))];
      if (problems.length) report.push({ round, problems });
    }
    console.info(`lifecycle races: ${ROUNDS} rounds × ${OPS_PER_ROUND} ops ${JSON.stringify(counts)}`);
    expect(report).toEqual([]);
    expect(await strayRows()).toEqual([]);
  });
});
