import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { vi } from 'vitest';
import type { Env } from '../../workers/platform/env';
import worker from '../../workers/index';

/*
 * Drives the queue consumers by hand: producers' messages are captured instead of sent, and
 * handed to the consumer with the attempt numbers a test wants (redelivery, duplicates, retries).
 */

export type Captured = { body: any }[];

export function captureQueue(queue: Queue): Captured {
  const captured: Captured = [];
  vi.spyOn(queue, 'send').mockImplementation(async (body: unknown) => {
    captured.push({ body });
    return {} as QueueSendResponse;
  });
  vi.spyOn(queue, 'sendBatch').mockImplementation(async (messages: Iterable<MessageSendRequest>) => {
    for (const m of messages) captured.push({ body: m.body });
    return {} as QueueSendBatchResponse;
  });
  return captured;
}

export function captureBatchQueue(): Captured {
  return captureQueue(env.BATCH_QUEUE);
}

export function captureWebhookQueue(): Captured {
  return captureQueue(env.WEBHOOK_QUEUE);
}

let sequence = 0;

/**
 * Runs the consumer of `queue` on these message bodies, with the test's env or `on` (a faulty
 * one); resolves with what it acked and retried, the retry delays asked for, and each message's
 * body by id.
 */
export async function consume(queue: string, bodies: unknown[], attempts = 1, on: Env = env) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body) => ({ id: `msg-${++sequence}`, timestamp: new Date(), attempts, body })),
  );
  // The pool's getQueueResult does not report retry delays: record them from the messages.
  const retryDelays: (number | undefined)[] = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      retryDelays.push(options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, on, ctx);
  const bodyOf = new Map(batch.messages.map((m) => [m.id, m.body]));
  return { ...(await getQueueResult(batch, ctx)), retryDelays, bodyOf };
}

/** Takes the captured messages (emptying the list). */
export function drain(captured: Captured): any[] {
  return captured.splice(0, captured.length).map((m) => m.body);
}

/** Runs plan and chunk messages until none are left, as the queue would. */
export async function runAll(captured: Captured): Promise<void> {
  for (let round = 0; round < 10 && captured.length > 0; round++) {
    await consume('modelflare-batch', drain(captured));
  }
}

/**
 * Runs the webhook consumer on captured deliveries with a receiver standing in for the
 * network; answers the events it got, verified with the endpoint's secret.
 */
export async function deliveredEvents(sent: unknown[], secret: string): Promise<any[]> {
  const received: { body: string; headers: Record<string, string> }[] = [];
  const receiver = vi
    .spyOn(globalThis, 'fetch')
    .mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      received.push({ body: await request.text(), headers: Object.fromEntries(request.headers) });
      return new Response(null, { status: 204 });
    });
  try {
    await consume('modelflare-webhooks', sent);
  } finally {
    receiver.mockRestore();
  }
  return received.map((r) => new Webhook(secret).verify(r.body, r.headers));
}
