import { env } from 'cloudflare:test';
import type { Env } from '../../workers/platform/env';
import { realOutage } from './outage-shapes';

/*
 * The real local bindings behind Proxies that fail chosen calls. A rule names a binding and a
 * method, and optionally which calls (the nth of that method, counted from 1) or a predicate
 * over what the call carries (for D1 the SQL text); the fault is a throw of the error the
 * real local binding throws when its store is down (captured in outages.json), or a promise
 * that never settles. Every call and every injected fault is counted, per binding and method.
 */

export type BindingName = 'DB' | 'BUCKET' | 'CACHE' | 'BATCH_QUEUE' | 'WEBHOOK_QUEUE';

export interface FaultRule {
  binding: BindingName;
  /** `put`, `get`, `delete`, `list`, `getWithMetadata`, `send`, `sendBatch`; for D1 `batch`, `first`, `all`, `run`, `raw`. */
  method: string | string[];
  /** Calls of this binding.method to fail, counted from 1 since the env was made; default every one. */
  nth?: number | number[];
  /** For D1: the statement's SQL (a batch's statements joined by `;\n`); else the call's arguments. */
  when?: (what: any) => boolean;
  /** Fail at most this many times (after `nth` and `when` have matched). */
  times?: number;
  fault?: 'throw' | 'hang';
  /** The error to throw; by default the one the real binding throws when its store is down. */
  error?: () => Error;
}

/** By default a fault is what the real binding throws when its store is down (outage-shapes.ts). */
export const OUTAGE = (binding: BindingName, method: string): Error => realOutage(binding, method);

interface ActiveRule extends FaultRule {
  fired: number;
}

/** Every env made in this file, for the file's summary (report.ts). */
export const made: Faults[] = [];

export class Faults {
  /** Calls made, by `BINDING.method`. */
  readonly calls = new Map<string, number>();
  /** Faults injected, by `BINDING.method`. */
  readonly injected = new Map<string, number>();
  /** The arguments of every call, by `BINDING.method` (D1: the SQL), to find what a call wrote. */
  readonly log = new Map<string, unknown[]>();
  readonly env: Env;
  private rules: ActiveRule[] = [];

  constructor(vars: Partial<Record<keyof Env, string>> = {}) {
    made.push(this);
    const base = env as unknown as Env;
    const wrapped: Partial<Env> = {
      DB: this.wrapD1(base.DB),
      BUCKET: this.wrap('BUCKET', base.BUCKET),
      CACHE: this.wrap('CACHE', base.CACHE),
      BATCH_QUEUE: this.wrap('BATCH_QUEUE', base.BATCH_QUEUE),
      WEBHOOK_QUEUE: this.wrap('WEBHOOK_QUEUE', base.WEBHOOK_QUEUE),
    };
    this.env = new Proxy(base, {
      get: (target, prop: string) =>
        prop in wrapped ? wrapped[prop as keyof Env] : (vars[prop as keyof Env] ?? Reflect.get(target, prop)),
    });
  }

  add(...rules: FaultRule[]): this {
    this.rules.push(...rules.map((r) => ({ ...r, fired: 0 })));
    return this;
  }

  /** Counts a fault injected outside the bindings (an outbound endpoint down), as `what.how`. */
  note(what: string, how: string): void {
    const key = `${what}.${how}`;
    this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
  }

  /** Lets every call through from now on (counts are kept). */
  heal(): void {
    this.rules = [];
  }

  count(binding: BindingName, method?: string): number {
    return sum(this.calls, binding, method);
  }

  faultsOn(binding: BindingName, method?: string): number {
    return sum(this.injected, binding, method);
  }

  /** Faults injected per binding, for the report. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, n] of this.injected) {
      const binding = key.split('.')[0]!;
      out[binding] = (out[binding] ?? 0) + n;
    }
    return out;
  }

  /** Runs a call through the rules: counts it, and fails it when a rule says so. */
  private call<T>(binding: BindingName, method: string, what: unknown, real: () => T): T | Promise<never> {
    const key = `${binding}.${method}`;
    const n = (this.calls.get(key) ?? 0) + 1;
    this.calls.set(key, n);
    const log = this.log.get(key) ?? [];
    log.push(what);
    this.log.set(key, log);
    const rule = this.rules.find(
      (r) =>
        r.binding === binding &&
        [r.method].flat().includes(method) &&
        (r.nth === undefined || [r.nth].flat().includes(n)) &&
        (r.when === undefined || r.when(what)) &&
        (r.times === undefined || r.fired < r.times),
    );
    if (!rule) return real();
    rule.fired += 1;
    this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
    if (rule.fault === 'hang') return new Promise<never>(() => {});
    return Promise.reject((rule.error ?? (() => OUTAGE(binding, method)))());
  }

  private wrap<T extends object>(binding: BindingName, target: T): T {
    return new Proxy(target, {
      get: (t, prop: string) => {
        const value = Reflect.get(t, prop);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => this.call(binding, prop, args, () => value.apply(t, args));
      },
    });
  }

  /*
   * D1 hands out statements: prepare() and bind() are wrapped so that the statement's own
   * first/all/run/raw pass the rules with its SQL; batch() takes the real statements back.
   */
  private wrapD1(d1: D1Database): D1Database {
    const real = new WeakMap<object, { stmt: D1PreparedStatement; sql: string }>();
    const statement = (stmt: D1PreparedStatement, sql: string): D1PreparedStatement => {
      const proxy = new Proxy(stmt, {
        get: (t, prop: string) => {
          const value = Reflect.get(t, prop);
          if (typeof value !== 'function') return value;
          if (prop === 'bind') return (...params: unknown[]) => statement(value.apply(t, params), sql);
          return (...args: unknown[]) => this.call('DB', prop, sql, () => value.apply(t, args));
        },
      });
      real.set(proxy, { stmt, sql });
      return proxy;
    };
    return new Proxy(d1, {
      get: (t, prop: string) => {
        const value = Reflect.get(t, prop);
        if (prop === 'prepare') return (sql: string) => statement(value.call(t, sql), sql);
        if (prop === 'batch') {
          return (stmts: D1PreparedStatement[]) => {
            const sql = stmts.map((s) => real.get(s)?.sql ?? '?').join(';\n');
            return this.call('DB', 'batch', sql, () =>
              value.call(
                t,
                stmts.map((s) => real.get(s)?.stmt ?? s),
              ),
            );
          };
        }
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  }
}

function sum(map: Map<string, number>, binding: string, method?: string): number {
  let total = 0;
  for (const [key, n] of map) {
    const [b, m] = key.split('.');
    if (b === binding && (method === undefined || m === method)) total += n;
  }
  return total;
}

/** A fresh env whose bindings fail as the rules say; `vars` override the worker's variables. */
export function faultyEnv(vars: Partial<Record<keyof Env, string>> = {}): Faults {
  return new Faults(vars);
}
