import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { expect } from 'vitest';
import { createWorker } from '../../workers/index';
import { ROLLOUT_CRON } from '../../workers/rollouts/check';
import type { Env } from '../../workers/platform/env';
import { ADMIN, callJson, seeded } from '../helpers';
import { impliedBiases } from '../concurrency/regressor-versions';

/*
 * A worker of the test's own (empty isolate caches, a seeded random source) driven the way the
 * platform drives it: requests whose after-response work (shadow runs, metric writes, rollout
 * checks) the test can wait for, and the rollout cron at a chosen time.
 */

const baseEnv = env as unknown as Env;

export interface Sent {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export class Rollout {
  readonly worker = createWorker();

  constructor(
    readonly env: Env = baseEnv,
    seed = 1,
    /** Whether requests wait for their after-response work (not in a quiet env: its flush timer is 25 s). */
    readonly settles = env === baseEnv,
  ) {
    this.services.random = seeded(seed);
  }

  get services() {
    return this.worker.servicesFor(this.env);
  }

  /** Sends a request and waits for what it left running (shadow runs, metrics, checks). */
  async send(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; token?: string; settle?: boolean } = {},
  ): Promise<Sent> {
    const headers = new Headers({ authorization: `Bearer ${options.token ?? ADMIN}`, ...options.headers });
    if (options.body !== undefined) headers.set('content-type', 'application/json');
    const ctx = createExecutionContext();
    const response = await this.worker.fetch(
      new Request(`http://modelflare.test${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      }),
      this.env,
      ctx,
    );
    const text = await response.text();
    if (options.settle ?? this.settles) await waitOnExecutionContext(ctx);
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  async sendJson(method: string, path: string, status: number, options: Parameters<Rollout['send']>[2] = {}) {
    const sent = await this.send(method, path, options);
    expect(sent.status, `${method} ${path}: ${sent.text}`).toBe(status);
    return sent.json;
  }

  /** The rollout cron trigger (every minute) at `at`. */
  async cron(at: number, cron = ROLLOUT_CRON): Promise<void> {
    const ctx = createExecutionContext();
    await this.worker.scheduled(createScheduledController({ cron, scheduledTime: at }), this.env, ctx);
    await waitOnExecutionContext(ctx);
  }
}

/**
 * The test env with counts written every 25 s rather than at once (the suite's setting): for
 * thousands of requests whose counts the test does not read. Its own isolate services, too.
 */
export function quietEnv(vars: Record<string, string> = {}): Env {
  const set: Record<string, string> = { METRICS_FLUSH_SECONDS: '25', ...vars };
  return new Proxy(baseEnv, { get: (target, prop: string) => set[prop] ?? Reflect.get(target, prop) });
}

/** One regressor row through V2 infer: the version that answered and the bias its output implies. */
export async function inferRow(
  rollout: Rollout,
  path: string,
  row: [number, number],
  headers: Record<string, string> = {},
  token?: string,
) {
  const sent = await rollout.send('POST', path, {
    body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: row }] },
    headers: { 'cache-control': 'no-store', ...headers },
    token,
  });
  expect(sent.status, sent.text).toBe(200);
  return {
    version: Number(sent.json.model_version),
    bias: impliedBiases([row], sent.json.outputs[0].data)[0]!,
    route: sent.headers.get('modelflare-route'),
    text: sent.text,
  };
}

export const putAlias = (model: string, alias: string, body: unknown, status = 200, token?: string) =>
  callJson('PUT', `/v1/models/${model}/aliases/${alias}`, status, { body: body as object, token });

/** Counts how many times each value occurs. */
export function tally<T>(values: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Bounds within which a binomial(n, p) count falls but with probability ~1e-6 (about 4.9 sigma). */
export function binomialBounds(n: number, p: number): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [n * p - 4.9 * sd, n * p + 4.9 * sd];
}
