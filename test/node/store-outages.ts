/*
 * What the real local bindings throw when the store behind them is unavailable. A Miniflare of
 * its own (wrangler's, the one `npm start` runs, or the vitest integration's, the one the
 * workers tests run in) serves a probe worker with D1, R2, KV, the Cache API and a queue; the probe calls each method and reports the error it caught: name,
 * message, the properties workerd sets on it (`remote`, `retryable`) and the frames of
 * workerd's own JavaScript (`cloudflare-internal:…`) in its stack.
 *
 * How each store is made unavailable, since none can be switched off by configuration:
 * - its storage directory is deleted while its object runs: writes that need a new file fail,
 *   files already open keep working (SQLite holds them);
 * - then the object restarts (workerd evicts an idle object after about ten seconds) and can no
 *   longer open its database: every call fails;
 * - the queue broker keeps its messages in memory and never fails a valid message; a delivery
 *   delay of a million seconds makes it fail while answering (its 400 carries a status text
 *   the runtime refuses), so it answers 500: the shape any failing broker gives.
 * Errors that are limits or bugs, not outages, are captured beside them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One error as a binding threw it. */
export interface CapturedError {
  name: string;
  message: string;
  /** The properties workerd sets on its errors (`remote`, `retryable`), when present. */
  flags: Record<string, boolean>;
  /** Frames of workerd's own JavaScript wrappers (the D1 binding has one), outermost last. */
  frames: string[];
}

/** The fixture file: what each local runtime threw. */
export interface OutageFixture {
  about: string;
  runtimes: Record<Runtime, OutageCapture>;
}

export interface OutageCapture {
  runtime: { miniflare: string; workerd: string };
  /** By situation, then by `BINDING.method` (the Cache API as `caches.match`). */
  outages: Record<string, Record<string, CapturedError>>;
  /** Real errors that are not outages: a retry cannot cure them. */
  notOutages: Record<string, CapturedError>;
}

const PROBE = `
const describe = (e) => ({
  name: e.name,
  message: e.message,
  flags: Object.fromEntries(['remote', 'retryable', 'overloaded', 'durableObjectReset'].filter((k) => k in e).map((k) => [k, e[k]])),
  frames: String(e.stack).split('\\n').map((l) => l.trim()).filter((l) => l.includes('cloudflare-internal:')),
});
const cache = () => caches.open('probe');
const CALLS = {
  'DB.all': (env) => env.DB.prepare('select 1 as one').all(),
  'DB.first': (env) => env.DB.prepare('select 1 as one').first(),
  'DB.raw': (env) => env.DB.prepare('select 1 as one').raw(),
  'DB.run': (env) => env.DB.prepare('create table if not exists probe (x)').run(),
  'DB.batch': (env) => env.DB.batch([env.DB.prepare('select 1 as one')]),
  'DB.all, bad SQL': (env) => env.DB.prepare('selec 1').all(),
  'BUCKET.put': (env) => env.BUCKET.put('probe', 'x'.repeat(2048)),
  'BUCKET.get': (env) => env.BUCKET.get('probe'),
  'BUCKET.head': (env) => env.BUCKET.head('probe'),
  'BUCKET.list': (env) => env.BUCKET.list(),
  'BUCKET.delete': (env) => env.BUCKET.delete('other'),
  'BUCKET.put, wrong sha256': (env) => env.BUCKET.put('probe', 'x', { sha256: '00' }),
  'CACHE.put': (env) => env.CACHE.put('probe', 'x'.repeat(2048)),
  'CACHE.get': (env) => env.CACHE.get('probe'),
  'CACHE.getWithMetadata': (env) => env.CACHE.getWithMetadata('probe'),
  'CACHE.list': (env) => env.CACHE.list(),
  'CACHE.delete': (env) => env.CACHE.delete('other'),
  'CACHE.put, TTL under 60 s': (env) => env.CACHE.put('probe', 'x', { expirationTtl: 10 }),
  'caches.put': async () => (await cache()).put('https://probe/k', new Response('x', { headers: { 'cache-control': 'max-age=600' } })),
  'caches.match': async () => (await cache()).match('https://probe/k'),
  'QUEUE.send': (env) => env.QUEUE.send({ probe: 1 }),
  'QUEUE.sendBatch': (env) => env.QUEUE.sendBatch([{ body: { probe: 1 } }]),
  'QUEUE.send, broker answers 500': (env) => env.QUEUE.send({ probe: 1 }, { delaySeconds: 10 ** 6 }),
  'QUEUE.sendBatch, broker answers 500': (env) => env.QUEUE.sendBatch([{ body: { probe: 1 } }], { delaySeconds: 10 ** 6 }),
  'QUEUE.send, over 128 KB': (env) => env.QUEUE.send('x'.repeat(200000)),
  'QUEUE.sendBatch, 101 messages': (env) => env.QUEUE.sendBatch(Array.from({ length: 101 }, () => ({ body: 1 }))),
};
export default {
  async fetch(request, env) {
    const call = decodeURIComponent(new URL(request.url).pathname.slice(1));
    try {
      const result = await CALLS[call](env);
      // Read a body to its end: a stored value whose file is gone fails here, if anywhere.
      if (result && typeof result.text === 'function') await result.text();
      return Response.json({ ok: true });
    } catch (e) {
      return Response.json({ ok: false, error: describe(e) });
    }
  },
  async queue(batch) {
    for (const m of batch.messages) m.ack();
  },
};`;

const STORE_CALLS = [
  'DB.all',
  'DB.first',
  'DB.raw',
  'DB.run',
  'DB.batch',
  'BUCKET.put',
  'BUCKET.get',
  'BUCKET.head',
  'BUCKET.list',
  'BUCKET.delete',
  'CACHE.put',
  'CACHE.get',
  'CACHE.getWithMetadata',
  'CACHE.list',
  'CACHE.delete',
  'caches.put',
  'caches.match',
  'QUEUE.send',
  'QUEUE.sendBatch',
];

/** workerd evicts an object that has had no request for about ten seconds. */
const IDLE_EVICTION_MS = 12_000;

/** Where each local runtime's Miniflare is: wrangler's (`npm start`) and the vitest integration's (`npm test`). */
export const RUNTIMES = {
  'wrangler dev': () => createRequire(createRequire(import.meta.url).resolve('wrangler')).resolve('miniflare'),
  // The plugin exports no package.json: resolve from its folder.
  'vitest (workers project)': () =>
    createRequire(fileURLToPath(new URL('../../node_modules/@cloudflare/vitest-plugin/', import.meta.url))).resolve(
      'miniflare',
    ),
} as const;
export type Runtime = keyof typeof RUNTIMES;

async function loadMiniflare(runtime: Runtime) {
  const path = RUNTIMES[runtime]();
  const version = (pkg: string) => createRequire(path)(`${pkg}/package.json`).version as string;
  const { Miniflare, convertV4MiniflareOptions } = await import(pathToFileURL(path).href);
  return {
    Miniflare,
    convertV4MiniflareOptions,
    versions: { miniflare: version('miniflare'), workerd: version('workerd') },
  };
}

type Result = { ok: true } | { ok: false; error: CapturedError };

/** Runs the capture (about 15 s: one idle eviction); answers every error, by situation. */
export async function captureStoreErrors(runtime: Runtime): Promise<OutageCapture> {
  const { Miniflare, convertV4MiniflareOptions, versions } = await loadMiniflare(runtime);
  const dir = mkdtempSync(join(tmpdir(), 'modelflare-outages-'));
  const worker = {
    modules: true,
    script: PROBE,
    compatibilityDate: '2025-09-01',
    d1Databases: { DB: 'probe-db' },
    r2Buckets: ['BUCKET'],
    kvNamespaces: ['CACHE'],
    queueProducers: { QUEUE: { queueName: 'probe' } },
    queueConsumers: { probe: { maxBatchTimeout: 0 } },
  };
  // Miniflare 5 takes a list of workers and one persistence root; 4 a worker and a path per store.
  const mf = versions.miniflare.startsWith('4.')
    ? new Miniflare({
        ...worker,
        d1Persist: join(dir, 'd1'),
        r2Persist: join(dir, 'r2'),
        kvPersist: join(dir, 'kv'),
        cachePersist: join(dir, 'cache'),
        durableObjectsPersist: join(dir, 'do'),
      })
    : new Miniflare(convertV4MiniflareOptions({ ...worker, resourcePersistencePath: dir }));
  const call = async (name: string): Promise<Result> =>
    (await mf.dispatchFetch(`http://probe/${encodeURIComponent(name)}`)).json();
  const failures = async (names: string[]) => {
    const out: Record<string, CapturedError> = {};
    for (const name of names) {
      const result = await call(name);
      if (!result.ok) out[name] = result.error;
    }
    return out;
  };
  try {
    await mf.ready;
    const healthy = await failures(STORE_CALLS);
    if (Object.keys(healthy).length > 0) throw new Error(`the probe fails while healthy: ${JSON.stringify(healthy)}`);
    const notOutages = await failures([
      'DB.all, bad SQL',
      'BUCKET.put, wrong sha256',
      'CACHE.put, TTL under 60 s',
      'QUEUE.send, over 128 KB',
      'QUEUE.sendBatch, 101 messages',
    ]);
    const broker = await failures(['QUEUE.send, broker answers 500', 'QUEUE.sendBatch, broker answers 500']);

    rmSync(dir, { recursive: true, force: true });
    const running = await failures(STORE_CALLS);
    await new Promise((resolve) => setTimeout(resolve, IDLE_EVICTION_MS));
    const restarted = await failures(STORE_CALLS);
    return {
      runtime: versions,
      outages: {
        'storage directory deleted, store object still running': running,
        'storage directory deleted, store object restarted': restarted,
        'queue broker answering 500': Object.fromEntries(
          Object.entries(broker).map(([k, v]) => [k.replace(', broker answers 500', ''), v]),
        ),
      },
      notOutages,
    };
  } finally {
    await mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every local runtime's errors, side by side (the captures run at once). */
export async function captureAll(): Promise<OutageFixture> {
  const names = Object.keys(RUNTIMES) as Runtime[];
  const captures = await Promise.all(names.map((name) => captureStoreErrors(name)));
  return {
    about:
      'Errors the real local bindings throw when a store is unavailable, per local runtime. Written and checked by test/node/store-outages.test.ts (UPDATE_OUTAGE_FIXTURES=1 rewrites it), injected by test/faults/faulty-env.ts, classified by workers/storage/outage.ts.',
    runtimes: Object.fromEntries(names.map((name, i) => [name, captures[i]!])) as Record<Runtime, OutageCapture>,
  };
}

/** What may differ between two captures of the same runtime: the reference workerd gives each internal error. */
export function comparable(fixture: OutageFixture): OutageFixture {
  return JSON.parse(
    JSON.stringify(fixture).replace(/internal error; reference = [0-9a-z]+/g, 'internal error; reference = …'),
  );
}
