import { describe, expect, it } from 'vitest';
import { call, uniqueName, uploadRaw, seeded } from '../helpers';
import { storageViolations, storedModel, strayRows } from './registry-invariants';
import { regressorWithBias, shuffle, stagger, uploadVersions } from './regressor-versions';

/*
 * Purging a model while uploads, alias moves and archives hit it. Afterwards the name is
 * either free with nothing left of it (no rows, no files), or taken again by an upload that
 * came after the purge, consistently; and no request failed with a 5xx.
 */

const ROUNDS = 12;

describe('purge races', { timeout: 300_000 }, () => {
  it(`leaves nothing half-deleted in ${ROUNDS} rounds of purge + uploads + alias moves + archives`, async () => {
    const random = seeded(7);
    const problems: string[] = [];
    let ops = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const name = uniqueName('purge');
      await uploadVersions(name, [round * 100 + 1, round * 100 + 2, round * 100 + 3]);
      await call('PUT', `/v1/models/${name}/aliases/production`, { body: { version: 1 } });
      const racing: [string, () => Promise<Response>, number[]][] = [
        ['purge', () => call('DELETE', `/v1/models/${name}?purge=true`), [204]],
        ['archive model', () => call('PATCH', `/v1/models/${name}`, { body: { archived: true } }), [200, 404]],
        ...[4, 5, 6].map(
          (i) =>
            [`upload ${i}`, () => uploadRaw(name, regressorWithBias(round * 100 + i)), [201, 409]] as [
              string,
              () => Promise<Response>,
              number[],
            ],
        ),
        ...[2, 3].map(
          (v) =>
            [
              `alias → ${v}`,
              () => call('PUT', `/v1/models/${name}/aliases/production`, { body: { version: v } }),
              [200, 404, 409],
            ] as [string, () => Promise<Response>, number[]],
        ),
        ['archive 2', () => call('DELETE', `/v1/models/${name}/versions/2`), [200, 404, 409]],
        ['restore 2', () => call('PATCH', `/v1/models/${name}/versions/2`, { body: { archived: false } }), [200, 404]],
      ];
      ops += racing.length;
      const answers = await Promise.all(
        shuffle(racing, random).map(async ([what, go, allowed]) => {
          await stagger(random, 1);
          const res = await go();
          return allowed.includes(res.status)
            ? null
            : `round ${round}: ${what} answered ${res.status} ${await res.text()}`;
        }),
      );
      problems.push(...answers.filter((a): a is string => a !== null));
      const stored = await storedModel(name);
      if (stored.modelId === null) {
        for (const key of stored.objects) problems.push(`round ${round}: purged model's file ${key} is still in R2`);
      } else {
        problems.push(...(await storageViolations(name, stored)).map((p) => `round ${round}: ${p}`));
      }
    }
    problems.push(...(await strayRows()));
    console.info(`purge races: ${ROUNDS} rounds, ${ops} operations`);
    expect(problems).toEqual([]);
  });
});
