/*
 * The latency model's binding wrappers: each binding of `env` (and the Cache API) is handed to
 * the app behind a Proxy that sends every call that leaves the isolate in production through
 * `remote`, which waits the kind's delay (a round trip to wherever the store lives) before
 * making the real call. Everything else about the call is untouched: same arguments, same
 * `this`, same result object, same error.
 *
 * Binding kinds are told apart by their methods, not by their names in wrangler.toml, so a new
 * or renamed binding is wrapped too. Methods that stay in the isolate in production (a D1
 * statement's bind, a Durable Object namespace's idFromName and get, caches.open, R2's
 * resumeMultipartUpload) are not delayed; their results are wrapped so the calls made through
 * them are.
 *
 * One difference is left: a remote method that would throw at once (bad arguments) rejects
 * after the delay instead, with the same error; the app awaits all of them, so it sees the same.
 *
 * Nothing here is specific to workerd: the types are structural so the file also runs in tests.
 */

export const KINDS = ['D1', 'DO', 'KV', 'R2', 'CACHE', 'QUEUE'] as const;
export type Kind = (typeof KINDS)[number];

/**
 * Makes one remote call of `kind`: `what` describes it (a D1 call's SQL, one string per
 * statement); `run` makes the real call and is called exactly once.
 */
export type Remote = <T>(kind: Kind, what: readonly string[], run: () => T | Promise<T>) => Promise<T>;

type Fn = (...args: unknown[]) => unknown;
/** Replaces a method: `call` is the real method bound to the real object. */
type Hook = (call: Fn, args: unknown[]) => unknown;
type Hooks = Record<string, Hook>;

/** The real object behind a wrapper, for the native calls that insist on their own objects. */
const unwrapped = new WeakMap<object, object>();

const bind = Function.prototype.bind;

const isObject = (v: unknown): v is object => (typeof v === 'object' || typeof v === 'function') && v !== null;

/**
 * A Proxy of `target` whose methods named in `hooks` (or given by `other` for the rest) run
 * through their hook. Properties are read with the real object as receiver, and methods not
 * hooked are bound to it: native objects refuse calls whose `this` is a Proxy. Calls go through
 * Reflect.apply and Function.prototype.bind, never the method's own `apply`/`bind`: an RPC
 * stub's methods answer any property name, `apply` included, with a remote method.
 */
function intercept<T extends object>(target: T, hooks: Hooks, other?: (prop: string) => Hook | undefined): T {
  const proxy = new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      const method = value as Fn;
      const hook = typeof prop === 'string' ? (Object.hasOwn(hooks, prop) ? hooks[prop] : other?.(prop)) : undefined;
      if (!hook) return bind.call(method, t);
      return (...args: unknown[]) => hook((...a: unknown[]) => Reflect.apply(method, t, a), args);
    },
  });
  unwrapped.set(proxy, target);
  return proxy;
}

const realOf = <T>(value: T): T => (isObject(value) ? ((unwrapped.get(value) as T | undefined) ?? value) : value);

const remoteHook =
  (remote: Remote, kind: Kind, what: (args: unknown[]) => readonly string[] = () => []): Hook =>
  (call, args) =>
    remote(kind, what(args), () => call(...args));

// ── D1 ──────────────────────────────────────────────────────────────────────────────────────

/** A statement's SQL, kept beside the wrapper so a batch can say what it ran. */
const sqlOf = new WeakMap<object, string>();

function d1Statement(statement: object, sql: string, remote: Remote): object {
  const run = remoteHook(remote, 'D1', () => [sql]);
  const wrapped = intercept(statement, {
    // Binding values is local: the statement travels with the call that runs it.
    bind: (call, args) => d1Statement(call(...args) as object, sql, remote),
    first: run,
    all: run,
    run,
    raw: run,
  });
  sqlOf.set(wrapped, sql);
  return wrapped;
}

/** prepare and batch, shared by a database and its sessions. */
function d1Hooks(remote: Remote): Hooks {
  return {
    prepare: (call, args) => d1Statement(call(...args) as object, String(args[0]), remote),
    // One round trip for the whole batch; the real batch needs the real statements.
    batch: (call, [statements, ...rest]) => {
      const list = Array.isArray(statements) ? statements : [];
      return remote(
        'D1',
        list.map((s) => sqlOf.get(s as object) ?? '?'),
        () => call(Array.isArray(statements) ? statements.map(realOf) : statements, ...rest),
      );
    },
  };
}

export function wrapD1<T extends object>(db: T, remote: Remote): T {
  const hooks = d1Hooks(remote);
  return intercept(db, {
    ...hooks,
    exec: remoteHook(remote, 'D1', (args) => [String(args[0])]),
    dump: remoteHook(remote, 'D1', () => ['dump']),
    // A session (Sessions API) is local until it runs something; getBookmark stays local.
    withSession: (call, args) => intercept(call(...args) as object, hooks),
  });
}

// ── KV, Queues ──────────────────────────────────────────────────────────────────────────────

export function wrapKv<T extends object>(kv: T, remote: Remote): T {
  const call = remoteHook(remote, 'KV');
  return intercept(kv, { get: call, getWithMetadata: call, put: call, delete: call, list: call });
}

export function wrapQueue<T extends object>(queue: T, remote: Remote): T {
  const call = remoteHook(remote, 'QUEUE');
  return intercept(queue, { send: call, sendBatch: call, metrics: call });
}

// ── R2 ──────────────────────────────────────────────────────────────────────────────────────

function r2Upload(upload: object, remote: Remote): object {
  const call = remoteHook(remote, 'R2');
  return intercept(upload, { uploadPart: call, complete: call, abort: call });
}

export function wrapR2<T extends object>(bucket: T, remote: Remote): T {
  const call = remoteHook(remote, 'R2');
  return intercept(bucket, {
    head: call,
    get: call,
    put: call,
    delete: call,
    list: call,
    createMultipartUpload: async (real, args) =>
      r2Upload((await remote('R2', [], () => real(...args))) as object, remote),
    // Resuming names an upload by id: no round trip until a part is sent.
    resumeMultipartUpload: (real, args) => r2Upload(real(...args) as object, remote),
  });
}

// ── Durable Objects ─────────────────────────────────────────────────────────────────────────

/** A stub's own properties and methods that never leave the isolate; every other method is RPC. */
const LOCAL_STUB_PROPS = new Set(['then', 'id', 'name', 'dup', 'constructor', 'toString', 'toJSON']);

function doStub(stub: object, remote: Remote): object {
  const call = remoteHook(remote, 'DO');
  return intercept(stub, {}, (prop) => (LOCAL_STUB_PROPS.has(prop) ? undefined : call));
}

export function wrapDurableObjects<T extends object>(namespace: T, remote: Remote): T {
  const stub: Hook = (call, args) => doStub(call(...args) as object, remote);
  return intercept(namespace, {
    get: stub,
    getByName: stub,
    jurisdiction: (call, args) => wrapDurableObjects(call(...args) as object, remote),
  });
}

// ── Cache API ───────────────────────────────────────────────────────────────────────────────

function wrapCache(cache: object, remote: Remote): object {
  const call = remoteHook(remote, 'CACHE');
  return intercept(cache, { match: call, put: call, delete: call });
}

/** `caches` whose `default` and `open(name)` caches delay match, put and delete. */
export function wrapCaches<T extends object>(storage: T, remote: Remote): T {
  const opened = new Map<string, Promise<object>>();
  let wrappedDefault: object | undefined;
  return new Proxy(storage, {
    get(t, prop) {
      if (prop === 'default') {
        // Read when first used: the runtime may not hand it out before a request.
        wrappedDefault ??= wrapCache((t as unknown as { default: object }).default, remote);
        return wrappedDefault;
      }
      if (prop === 'open') {
        return (name: string) => {
          const key = String(name);
          let cache = opened.get(key);
          if (!cache) {
            cache = (t as unknown as { open: (n: string) => Promise<object> })
              .open(key)
              .then((c) => wrapCache(c, remote));
            // A failed open is not kept.
            cache.catch(() => opened.delete(key));
            opened.set(key, cache);
          }
          return cache;
        };
      }
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? bind.call(value, t) : value;
    },
  });
}

// ── env ─────────────────────────────────────────────────────────────────────────────────────

const has = (value: object, ...methods: string[]) =>
  methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');

/**
 * The kind of a binding, told by its methods; undefined for variables and anything else. A
 * service binding or RPC stub answers any method name, so one that has a made-up method is
 * none of these.
 */
export function kindOf(value: unknown): Exclude<Kind, 'CACHE'> | undefined {
  if (!isObject(value) || has(value, 'noSuchMethodOfAnyBinding')) return undefined;
  if (has(value, 'idFromName', 'idFromString', 'get')) return 'DO';
  if (has(value, 'prepare', 'batch', 'exec')) return 'D1';
  if (has(value, 'createMultipartUpload', 'head')) return 'R2';
  if (has(value, 'getWithMetadata', 'put')) return 'KV';
  if (has(value, 'sendBatch', 'send')) return 'QUEUE';
  return undefined;
}

const WRAP = { D1: wrapD1, DO: wrapDurableObjects, R2: wrapR2, KV: wrapKv, QUEUE: wrapQueue };

/** A copy of `env` with every binding wrapped; `wrapped` names them with their kinds. */
export function wrapEnv<E extends object>(env: E, remote: Remote): { env: E; wrapped: Record<string, Kind> } {
  const out = { ...env } as Record<string, unknown>;
  const wrapped: Record<string, Kind> = {};
  for (const [name, value] of Object.entries(env as Record<string, unknown>)) {
    const kind = kindOf(value);
    if (!kind) continue;
    out[name] = WRAP[kind](value as object, remote);
    wrapped[name] = kind;
  }
  return { env: out as E, wrapped };
}
