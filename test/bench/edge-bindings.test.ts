import { env } from 'cloudflare:test';
import { drizzle } from 'drizzle-orm/d1';
import { sql } from 'drizzle-orm';
import { integer, sqliteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import {
  kindOf,
  wrapCaches,
  wrapD1,
  wrapDurableObjects,
  wrapEnv,
  wrapKv,
  wrapQueue,
  wrapR2,
  type Kind,
  type Remote,
} from '../../scripts/bench/edge/bindings';

/*
 * The latency model's wrappers (npm run bench:edge) against the real local bindings: every
 * remote call goes through `remote` once, with its delay, and answers exactly what the
 * unwrapped binding answers, errors included.
 */

function recorder(delayMs = 0) {
  const calls: { kind: Kind; what: readonly string[] }[] = [];
  const remote: Remote = async (kind, what, run) => {
    calls.push({ kind, what });
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return run();
  };
  return { calls, remote, kinds: () => calls.map((c) => c.kind) };
}

const errorOf = async (work: () => Promise<unknown>) => {
  try {
    await work();
  } catch (err) {
    return err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
  }
  throw new Error('expected a failure');
};

describe('bench:edge binding wrappers', () => {
  it('tells the kinds of the env bindings by their methods', () => {
    expect(wrapEnv(env, recorder().remote).wrapped).toEqual({
      DB: 'D1',
      BUCKET: 'R2',
      CACHE: 'KV',
      BATCH_QUEUE: 'QUEUE',
      WEBHOOK_QUEUE: 'QUEUE',
      RATE_LIMITER: 'DO',
    });
    expect(kindOf('a variable')).toBeUndefined();
  });

  it('D1: prepare/bind are local; first, all, run, raw, batch and exec are one round trip each', async () => {
    const { remote, calls, kinds } = recorder(20);
    const db = wrapD1(env.DB, remote);
    await db.exec('CREATE TABLE IF NOT EXISTS edge_t (id INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO edge_t (v) VALUES (?)');
    const started = Date.now();
    await insert.bind('a').run();
    expect(Date.now() - started).toBeGreaterThanOrEqual(20);
    const [one, two] = await db.batch([insert.bind('b'), insert.bind('c')]);
    expect(one!.success && two!.success).toBe(true);
    const select = db.prepare('SELECT v FROM edge_t ORDER BY id');
    const real = env.DB.prepare('SELECT v FROM edge_t ORDER BY id');
    expect(await select.first('v')).toEqual(await real.first('v'));
    expect((await select.all()).results).toEqual((await real.all()).results);
    expect(await select.raw({ columnNames: true })).toEqual(await real.raw({ columnNames: true }));
    expect(kinds()).toEqual(['D1', 'D1', 'D1', 'D1', 'D1', 'D1']);
    expect(calls[2]!.what).toEqual(['INSERT INTO edge_t (v) VALUES (?)', 'INSERT INTO edge_t (v) VALUES (?)']);
    // Same error as the real binding.
    const bad = 'SELECT nope FROM edge_t';
    expect(await errorOf(() => db.prepare(bad).all())).toEqual(await errorOf(() => env.DB.prepare(bad).all()));
    const session = db.withSession('first-unconstrained');
    expect(await session.prepare('SELECT count(*) AS n FROM edge_t').first('n')).toBe(3);
    expect(kinds().length).toBe(8);
  });

  it('D1 through drizzle, batch included', async () => {
    const { remote, kinds } = recorder();
    const db = drizzle(wrapD1(env.DB, remote));
    await db.run(sql`CREATE TABLE IF NOT EXISTS edge_d (n INTEGER)`);
    const table = sqliteTable('edge_d', { n: integer('n') });
    const [, rows] = await db.batch([db.insert(table).values({ n: 7 }), db.select().from(table)]);
    expect(rows).toEqual([{ n: 7 }]);
    expect(kinds()).toEqual(['D1', 'D1']);
  });

  it('KV and Queues: every method is a round trip', async () => {
    const { remote, kinds } = recorder();
    const kv = wrapKv(env.CACHE, remote);
    await kv.put('edge-k', 'v', { metadata: { m: 1 } });
    expect(await kv.get('edge-k')).toBe('v');
    expect(await kv.getWithMetadata('edge-k')).toEqual(await env.CACHE.getWithMetadata('edge-k'));
    expect((await kv.list({ prefix: 'edge-' })).keys.map((k) => k.name)).toEqual(['edge-k']);
    await kv.delete('edge-k');
    const queue = wrapQueue(env.WEBHOOK_QUEUE, remote);
    await queue.send({ not: 'a delivery' }, { delaySeconds: 3600 });
    await queue.sendBatch([{ body: { not: 'one' }, delaySeconds: 3600 }]);
    expect(kinds()).toEqual(['KV', 'KV', 'KV', 'KV', 'KV', 'QUEUE', 'QUEUE']);
  });

  it('R2: objects and multipart uploads', async () => {
    const { remote, kinds } = recorder();
    const bucket = wrapR2(env.BUCKET, remote);
    await bucket.put('edge/a', 'hello');
    expect(await (await bucket.get('edge/a'))!.text()).toBe('hello');
    expect((await bucket.head('edge/a'))!.size).toBe(5);
    expect((await bucket.list({ prefix: 'edge/' })).objects.map((o) => o.key)).toEqual(['edge/a']);
    const upload = await bucket.createMultipartUpload('edge/m');
    const resumed = bucket.resumeMultipartUpload('edge/m', upload.uploadId);
    const part = await resumed.uploadPart(1, 'parts');
    await upload.complete([part]);
    expect(await (await env.BUCKET.get('edge/m'))!.text()).toBe('parts');
    await bucket.delete(['edge/a', 'edge/m']);
    expect(kinds()).toEqual(['R2', 'R2', 'R2', 'R2', 'R2', 'R2', 'R2', 'R2']);
  });

  it('Durable Objects: idFromName and get are local, the stub’s RPC calls are round trips', async () => {
    const { remote, kinds } = recorder(10);
    const ns = wrapDurableObjects(env.RATE_LIMITER, remote);
    const stub = ns.get(ns.idFromName('edge-test'));
    expect(kinds()).toEqual([]);
    const first = await stub.record(10, 60, 1);
    expect(first.tat).toBeGreaterThan(Date.now());
    const second = await ns.getByName('edge-test').record(10, 60, 1);
    expect(second.tat).toBeGreaterThan(first.tat);
    expect(kinds()).toEqual(['DO', 'DO']);
  });

  it('Cache API: open and default are local; match, put and delete are round trips', async () => {
    const { remote, kinds } = recorder();
    const storage = wrapCaches(caches, remote);
    const cache = await storage.open('edge-test');
    const key = new Request('https://edge.test/a');
    await cache.put(key, new Response('cached', { headers: { 'cache-control': 'max-age=60' } }));
    const hit = await cache.match(key);
    const real = await (await caches.open('edge-test')).match(key);
    expect(hit && (await hit.text())).toEqual(real && (await real.text()));
    await cache.delete(key);
    expect(await storage.default.match(key)).toBeUndefined();
    expect(kinds()).toEqual(['CACHE', 'CACHE', 'CACHE', 'CACHE']);
  });
});
