import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { database } from '../../workers/storage/db';
import { storeOutage } from '../../workers/storage/outage';
import { OUTAGE } from './faulty-env';

/*
 * Which failures count as a store outage (503) and which stay bugs (500): the bugs here are
 * real errors from the real local bindings; the outages are the shapes workerd gives them.
 */

async function thrown(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('storeOutage', () => {
  it('names the store for each outage shape, also inside drizzle’s wrapper', () => {
    expect(storeOutage(OUTAGE.DB('run'))).toBe('D1');
    expect(storeOutage(new Error('D1 DB is overloaded. Requests queued for too long.'))).toBe('D1');
    expect(storeOutage(OUTAGE.BUCKET('put'))).toBe('R2');
    expect(storeOutage(OUTAGE.CACHE('get'))).toBe('KV');
    expect(storeOutage(OUTAGE.BATCH_QUEUE('send'))).toBe('Queues');
    expect(storeOutage(new Error('Unknown Internal Error (15000)'))).toBe('Queues');
    expect(storeOutage(new Error('Failed query: select 1', { cause: OUTAGE.DB('all') }))).toBe('D1');
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
