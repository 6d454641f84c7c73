import { describe, expect, it } from 'vitest';
import { call, callJson, testWorker, uniqueName } from '../helpers';
import { ask, ROW_SETS, uploadVersions } from './regressor-versions';

/*
 * The first requests to versions no isolate has loaded, all at once, by number, by alias and
 * by default, with readiness probes among them: each version is loaded once, and every answer
 * comes from the version it names.
 */

const REQUESTS = 60;

describe('concurrent first requests to a cold model', { timeout: 120_000 }, () => {
  it(`loads each of 3 versions once for ${REQUESTS} simultaneous predictions and 6 ready probes`, async () => {
    const name = uniqueName('cold');
    const biasByVersion = await uploadVersions(name, [11, 22, 33]);
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 1 } });
    await callJson('PUT', `/v1/models/${name}/aliases/staging`, 200, { body: { version: 3 } });
    const refs: [string | undefined, number][] = [
      ['1', 1],
      ['2', 2],
      ['3', 3],
      ['production', 1],
      ['staging', 3],
      [undefined, 1],
    ];
    // A worker of its own: the uploads' isolate kept the validated sessions warm, this one has none.
    const cold = testWorker();

    const [answers, probes] = await Promise.all([
      Promise.all(
        Array.from({ length: REQUESTS }, async (_, i) => {
          const [ref, expected] = refs[i % refs.length]!;
          // no-store: every request needs the session, none is answered from the cache.
          const answer = await ask(i % 2 ? 'v2' : 'predict', name, ref, ROW_SETS[i % 3]!, 'no-store', cold);
          return { answer, expected };
        }),
      ),
      Promise.all([1, 2, 3, 1, 2, 3].map((v) => call('GET', `/v2/models/${name}/versions/${v}/ready`, { via: cold }))),
    ]);

    for (const { answer, expected } of answers) {
      expect(answer.status, answer.body).toBe(200);
      expect(answer.version, answer.body).toBe(expected);
      expect(answer.biases).toEqual(answer.biases.map(() => biasByVersion.get(expected)));
    }
    expect(probes.map((p) => p.status)).toEqual(Array(6).fill(200));
    expect(cold.services.sessions.stats()).toMatchObject({ loads: 3, hits: REQUESTS + 6 - 3, evictions: 0 });
  });
});
