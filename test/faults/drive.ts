import { createExecutionContext, createScheduledController } from 'cloudflare:test';
import { createWorker } from '../../workers/index';
import type { Env } from '../../workers/platform/env';
import { consume } from '../batch/queue-driver';
import { ADMIN } from '../helpers';

/*
 * The real handlers on a given env (a faulty one): the HTTP app, the queue consumers and the
 * cron trigger, each with its own execution context. Each env gets isolate services of its
 * own (empty caches), which servicesOf shows.
 */

const worker = createWorker();

export const servicesOf = (env: Env) => worker.servicesFor(env);

export interface Sent {
  response: Response;
  /** Settles when the work the request left running (cache writes, metrics) is done. */
  ctx: ExecutionContext;
}

export async function send(
  env: Env,
  method: string,
  path: string,
  options: { body?: Uint8Array | object; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const headers = new Headers({ authorization: `Bearer ${ADMIN}`, ...options.headers });
  let body: BodyInit | undefined;
  if (options.body instanceof Uint8Array) {
    body = options.body;
    if (!headers.has('content-type')) headers.set('content-type', 'application/octet-stream');
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers.set('content-type', 'application/json');
  }
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://modelflare.test${path}`, { method, headers, body }),
    env,
    ctx,
  );
  return { response, ctx };
}

/** Sends and reads the answer as JSON, with its status and headers. */
export async function sendJson(env: Env, method: string, path: string, options?: Parameters<typeof send>[3]) {
  const { response } = await send(env, method, path, options);
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  noteServerError(response.status, body);
  return { status: response.status, headers: response.headers, body };
}

/** Server errors answered in this file, by `status code` (report.ts). */
export const serverErrors = new Map<string, number>();

function noteServerError(status: number, body: any): void {
  if (status < 500) return;
  const code = typeof body?.error === 'object' ? body.error.code : typeof body?.error === 'string' ? 'v2' : '?';
  const key = `${status} ${code}`;
  serverErrors.set(key, (serverErrors.get(key) ?? 0) + 1);
}

/** Runs `queue`'s consumer on these bodies with `env`; resolves with the bodies it acked and retried. */
export async function consumeWith(env: Env, queue: string, bodies: unknown[], attempts = 1) {
  const result = await consume(queue, bodies, attempts, env);
  return {
    acked: result.explicitAcks.map((id) => result.bodyOf.get(id)),
    retried: result.retryMessages.map((r) => result.bodyOf.get(r.msgId)),
    delays: result.retryDelays,
  };
}

/** Runs the cron trigger's work at `scheduledTime` with `env`. */
export async function scheduledWith(env: Env, scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: '*/5 * * * *' }), env, ctx);
}
