import { AsyncLocalStorage } from 'node:async_hooks';
import worker from '../../../workers/index';
import { KINDS, wrapCaches, wrapEnv, type Kind, type Remote } from './bindings';

// Whatever the production entry exports besides its handlers (the Durable Object classes).
export * from '../../../workers/index';

/*
 * The entry of `npm run bench:edge` (scripts/bench/edge/run.mjs builds it; wrangler.toml's
 * main never includes it): the production worker unchanged, given an `env` whose bindings, and
 * a global `caches`, wait a configurable delay before every call that would leave the isolate
 * in production (bindings.ts). It also keeps, per request, which calls settled before the
 * handler's Response was returned (the ones the client waited for) and answers them in the
 * `x-edge-awaited` header; every call is counted by kind, and each D1 statement's SQL and time
 * kept, for /__edge/stats. Nothing here knows the app's internals: only the bindings it is
 * given and its HTTP answers.
 */

type Counts = Record<Kind, number>;
const zero = (): Counts => Object.fromEntries(KINDS.map((k) => [k, 0])) as Counts;

/** Delays in ms per kind: from the EDGE_DELAYS_MS variable (JSON), or as /__edge/delays last set them. */
let delays: Counts = zero();
let delaysSet = false;

interface Pending {
  awaited: Counts;
  responded: boolean;
}
const requests = new AsyncLocalStorage<Pending>();

/** At most this many D1 statements are logged between two resets (a cell runs far fewer). */
const MAX_D1_LOG = 200_000;

function newStats() {
  return {
    since: Date.now(),
    /** Every call, wherever it came from (requests, their waitUntil work, queue consumers). */
    calls: zero(),
    /** Calls made on behalf of a request (before or after its response). */
    inRequest: zero(),
    /** Calls a request's response waited for. */
    awaited: zero(),
    requests: 0,
    d1Statements: 0,
    /** [ms since reset, index into sql, D1 call number, 1 if made on behalf of a request] */
    d1: [] as [number, number, number, number][],
    sql: [] as string[],
    sqlIndex: new Map<string, number>(),
  };
}
let stats = newStats();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const remote: Remote = async (kind, what, run) => {
  const pending = requests.getStore();
  stats.calls[kind] += 1;
  if (pending) stats.inRequest[kind] += 1;
  if (kind === 'D1') {
    const t = Date.now() - stats.since;
    for (const sql of what) {
      stats.d1Statements += 1;
      if (stats.d1.length >= MAX_D1_LOG) continue;
      let index = stats.sqlIndex.get(sql);
      if (index === undefined) {
        index = stats.sql.push(sql) - 1;
        stats.sqlIndex.set(sql, index);
      }
      stats.d1.push([t, index, stats.calls.D1, pending ? 1 : 0]);
    }
  }
  // A round trip: the call leaves only once the delay has passed. No delay, no timer.
  const ms = delays[kind];
  if (ms > 0) await sleep(ms);
  try {
    return await run();
  } finally {
    if (pending && !pending.responded) {
      pending.awaited[kind] += 1;
      stats.awaited[kind] += 1;
    }
  }
};

// The Cache API is a global: every `caches` the app reads is the wrapped one.
const realCaches = caches;
Object.defineProperty(globalThis, 'caches', {
  value: wrapCaches(realCaches, remote),
  configurable: true,
  writable: true,
});

const wrappedEnvs = new WeakMap<object, ReturnType<typeof wrapEnv<object>>>();

/** The env the app sees (wrapped once per env object), and the delays from its variable. */
function bindings(env: Record<string, unknown>): ReturnType<typeof wrapEnv<object>> {
  let wrapped = wrappedEnvs.get(env);
  if (!wrapped) {
    wrapped = wrapEnv(env, remote);
    wrappedEnvs.set(env, wrapped);
    if (!delaysSet && typeof env.EDGE_DELAYS_MS === 'string') setDelays(JSON.parse(env.EDGE_DELAYS_MS));
  }
  return wrapped;
}

function setDelays(given: unknown): void {
  const next = zero();
  for (const kind of KINDS) {
    const v = (given as Partial<Counts> | null)?.[kind] ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`delay of ${kind}: ${String(v)}`);
    next[kind] = v;
  }
  delays = next;
  delaysSet = true;
}

/** `D1=2,DO=1`, or `none`. */
function describe(awaited: Counts): string {
  const parts = KINDS.filter((k) => awaited[k] > 0).map((k) => `${k}=${awaited[k]}`);
  return parts.length > 0 ? parts.join(',') : 'none';
}

function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    // Immutable headers (a response straight from fetch or the cache): copy them.
    const copy = new Response(response.body, response);
    copy.headers.set(name, value);
    return copy;
  }
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function control(request: Request, env: Record<string, unknown>, url: URL): Promise<Response> {
  const { wrapped } = bindings(env);
  switch (url.pathname) {
    case '/__edge/delays':
      if (request.method === 'POST') setDelays(await request.json());
      return json({ delays });
    case '/__edge/stats': {
      const { sqlIndex: _index, ...body } = stats;
      if (url.searchParams.get('reset') === '1') stats = newStats();
      return json({ ...body, until: Date.now() });
    }
    case '/__edge/bindings':
      return json({ wrapped, caches: caches !== realCaches, delays });
    default:
      return json({ error: 'unknown edge route' }, 404);
  }
}

export default {
  async fetch(request, env, ctx) {
    // A string test, not a URL parse, so the measured routes pay nothing for the control routes.
    if (request.url.includes('/__edge/')) {
      try {
        return await control(request, env, new URL(request.url));
      } catch (err) {
        return json({ error: err instanceof Error ? err.message : String(err) }, 500);
      }
    }
    const wrappedEnv = bindings(env).env;
    stats.requests += 1;
    const pending: Pending = { awaited: zero(), responded: false };
    let response: Response;
    try {
      response = await requests.run(pending, () => worker.fetch(request, wrappedEnv as never, ctx));
    } finally {
      pending.responded = true;
    }
    return withHeader(response, 'x-edge-awaited', describe(pending.awaited));
  },
  queue: (batch, env, ctx) => worker.queue(batch, bindings(env).env as never, ctx),
  scheduled: (controller, env, ctx) => worker.scheduled(controller, bindings(env).env as never, ctx),
} satisfies ExportedHandler<Record<string, unknown>>;
