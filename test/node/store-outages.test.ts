import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { storeOutage } from '../../workers/storage/outage';
import { expectedStore, rebuild } from '../faults/outage-shapes';
import { captureAll, comparable, type OutageCapture, type OutageFixture } from './store-outages';

/*
 * The fault suite injects the errors recorded in test/faults/outages.json. Here they are
 * provoked again from the real local bindings of both local runtimes, so the record cannot drift
 * from what the installed Miniflare and workerd throw, and each is classified as it must be.
 */

const FIXTURE = new URL('../faults/outages.json', import.meta.url);

describe('store outages, from the real local bindings', () => {
  it('throw what test/faults/outages.json records, and storage/outage.ts names each store', async () => {
    const fresh = await captureAll();
    if (process.env.UPDATE_OUTAGE_FIXTURES === '1') writeFileSync(FIXTURE, `${JSON.stringify(fresh, null, 2)}\n`);
    const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as OutageFixture;
    expect(
      comparable(fresh),
      'the local runtimes throw something else now: UPDATE_OUTAGE_FIXTURES=1 npx vitest run --project node test/node/store-outages.test.ts rewrites the record',
    ).toEqual(comparable(recorded));

    for (const [runtime, capture] of Object.entries(fresh.runtimes) as [string, OutageCapture][]) {
      for (const [situation, calls] of Object.entries(capture.outages)) {
        for (const [call, shape] of Object.entries(calls)) {
          expect(storeOutage(rebuild(shape)), `${runtime}, ${situation}, ${call}: ${shape.message}`).toBe(
            expectedStore(situation, call),
          );
        }
      }
      for (const [call, shape] of Object.entries(capture.notOutages)) {
        expect(storeOutage(rebuild(shape)), `${runtime}, ${call}: ${shape.message}`).toBeUndefined();
      }
    }
  }, 90_000);
});
