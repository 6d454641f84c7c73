import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { database } from '../../workers/storage/db';
import { UNNAMED, storeOutage } from '../../workers/storage/outage';
import { BROKER, CAPTURES, RESTARTED, TEST_RUNTIME, expectedStore, realOutage, rebuild } from './outage-shapes';

/*
 * Which failures count as a store outage (503) and which stay bugs (500). The outages are the
 * errors the real local bindings threw when their store's storage was gone, in both local
 * runtimes (outages.json; the Node project captures them again on every run and fails if they
 * changed), and a queue send this runtime's broker really fails; the bugs are real errors from
 * the real local bindings here.
 */

async function thrown(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** Every call the capture makes fails once its store's object has restarted without its storage. */
const STORE_CALLS = ['DB', 'BUCKET', 'CACHE'].flatMap((b) =>
  (b === 'DB'
    ? ['all', 'first', 'raw', 'run', 'batch']
    : b === 'BUCKET'
      ? ['put', 'get', 'head', 'list', 'delete']
      : ['put', 'get', 'getWithMetadata', 'list', 'delete']
  ).map((m) => `${b}.${m}`),
);

describe('storeOutage', () => {
  for (const [runtime, capture] of Object.entries(CAPTURES)) {
    describe(`on the errors ${runtime} threw (miniflare ${capture.runtime.miniflare})`, () => {
      it('every store call failed once its object restarted, and the broker refused both sends', () => {
        expect(Object.keys(capture.outages[RESTARTED]!).sort()).toEqual([...STORE_CALLS, 'caches.match'].sort());
        expect(Object.keys(capture.outages[BROKER]!).sort()).toEqual(['QUEUE.send', 'QUEUE.sendBatch']);
      });

      for (const [situation, calls] of Object.entries(capture.outages)) {
        it(`names the store of each outage: ${situation}`, () => {
          for (const [call, shape] of Object.entries(calls)) {
            expect(storeOutage(rebuild(shape)), `${call}: ${shape.message}`).toBe(expectedStore(situation, call));
          }
        });
      }

      it('leaves the real errors that are limits or bugs alone', () => {
        for (const [call, shape] of Object.entries(capture.notOutages)) {
          expect(storeOutage(rebuild(shape)), `${call}: ${shape.message}`).toBeUndefined();
        }
      });
    });
  }

  it('a queue send this runtime’s broker fails for real is a Queues outage', async () => {
    // The broker cannot schedule a delivery a million seconds away and fails the send.
    const err = await thrown(() => env.BATCH_QUEUE.send({ kind: 'plan', jobId: 'x' }, { delaySeconds: 10 ** 6 }));
    expect(storeOutage(err), String(err)).toBe('Queues');
  });

  it('looks through drizzle’s wrapper, which also names D1 when its cause does not', () => {
    const d1 = realOutage('DB', 'all');
    expect(storeOutage(new Error('Failed query: select 1\nparams: ', { cause: d1 }))).toBe('D1');
    const bare = rebuild({ ...CAPTURES[TEST_RUNTIME]!.outages[RESTARTED]!['DB.all']!, frames: [] });
    expect(storeOutage(bare)).toBe(UNNAMED);
    expect(storeOutage(new Error('Failed query: select 1\nparams: ', { cause: bare }))).toBe('D1');
  });

  it('the shapes production documents: D1_ERROR, R2 10001, Queues 15000', () => {
    expect(storeOutage(new Error('D1_ERROR: Network connection lost.'))).toBe('D1');
    expect(storeOutage(new Error('D1 DB is overloaded. Requests queued for too long.'))).toBe('D1');
    expect(storeOutage(new Error('put: We encountered an internal error. Please try again. (10001)'))).toBe('R2');
    expect(storeOutage(new Error('KV GET failed: 503 Service Unavailable'))).toBe('KV');
    expect(storeOutage(new Error('Unknown Internal Error (15000)'))).toBe('Queues');
  });

  it('a generic message counts only with the flag workerd sets on it', () => {
    expect(storeOutage(new Error('Network connection lost.'))).toBeUndefined();
    expect(storeOutage(new Error('internal error; reference = abc123'))).toBeUndefined();
  });

  it('leaves bugs alone: bad SQL, constraint violations, bad arguments, anything else', async () => {
    const db = database(env.DB);
    expect(storeOutage(await thrown(() => db.run(sql`select * from no_such_table`)))).toBeUndefined();
    expect(storeOutage(await thrown(() => env.DB.prepare('selec 1').all()))).toBeUndefined();
    await env.DB.prepare('create table if not exists outage_probe (id text primary key)').run();
    await env.DB.prepare("insert or ignore into outage_probe values ('a')").run();
    expect(
      storeOutage(await thrown(() => env.DB.prepare("insert into outage_probe values ('a')").run())),
    ).toBeUndefined();
    expect(storeOutage(await thrown(() => env.CACHE.put('k', 'v', { expirationTtl: 10 })))).toBeUndefined();
    expect(storeOutage(await thrown(() => env.BUCKET.put('k', 'v', { sha256: '00' })))).toBeUndefined();
    expect(
      storeOutage(new Error('put: Your metadata headers exceed the maximum allowed metadata size. (10012)')),
    ).toBeUndefined();
    expect(storeOutage(new TypeError('x is undefined'))).toBeUndefined();
    expect(storeOutage('D1_ERROR: a string, not an Error')).toBeUndefined();
  });
});
