import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, callJson, fixture, newModel } from '../helpers';
import { captureWebhookQueue, drain } from '../batch/queue-driver';
import { consumeWith } from './drive';
import { faultyEnv, type Faults } from './faulty-env';
import { reportFaults } from './report';

/*
 * An outbound webhook endpoint that is down (connection refused, 5xx, no answer) gets the
 * delivery again later with backoff and receives it once it is back; past the retry budget the
 * delivery is dead-lettered and recorded as failed, never lost: it can be sent again.
 */

const URL = 'http://127.0.0.1:9/hooks';
const WEBHOOKS = 'modelflare-webhooks';
/** wrangler.toml: max_retries = 8 on the webhook queue, so nine attempts in all. */
const ATTEMPTS = 9;

afterEach(async () => {
  vi.restoreAllMocks();
  for (const hook of (await callJson('GET', '/v1/webhooks', 200)).webhooks)
    await call('DELETE', `/v1/webhooks/${hook.id}`);
});

type Answer = number | 'refused' | 'silent';

/** The receiving server: each request gets the next answer; 'silent' never answers (until the sender gives up). */
function endpointThatAnswers(answers: Answer[], faults: Faults) {
  const received: { webhookId: string | null }[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.url !== URL) return new Response('elsewhere', { status: 404 });
    received.push({ webhookId: request.headers.get('webhook-id') });
    const answer = answers.shift() ?? 200;
    if (answer !== 200) faults.note('endpoint', String(answer));
    if (answer === 'refused') throw new TypeError('Network connection lost.');
    if (answer === 'silent') {
      return new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
      );
    }
    return new Response('', { status: answer });
  });
  return received;
}

/** A model.version.created delivery to a new endpoint, waiting in the captured queue. */
async function pendingDelivery() {
  const hook = await callJson('POST', '/v1/webhooks', 201, { body: { url: URL, events: ['model.version.created'] } });
  const queue = captureWebhookQueue();
  await newModel(fixture('generated/regressor.onnx'), 'hooked');
  const messages = [];
  for (const m of drain(queue)) {
    const row = await env.DB.prepare('select endpoint_id from webhook_deliveries where id = ?')
      .bind(m.deliveryId)
      .first<{ endpoint_id: string }>();
    if (row?.endpoint_id === hook.id) messages.push(m);
  }
  expect(messages).toHaveLength(1);
  return { hook, message: messages[0], queue };
}

async function deliveryOf(hookId: string) {
  const { deliveries } = await callJson('GET', `/v1/webhooks/${hookId}/deliveries`, 200);
  expect(deliveries).toHaveLength(1);
  return deliveries[0];
}

reportFaults('webhooks');

describe('an outbound endpoint that is down', () => {
  it('refused, 500, no answer, 503: retried with doubling delays, then delivered once it answers', async () => {
    const { hook, message } = await pendingDelivery();
    // The sender's own timeout ends the silent attempt: a short one keeps the test quick.
    const faults = faultyEnv({ WEBHOOK_TIMEOUT_MS: '50' });
    const received = endpointThatAnswers(['refused', 500, 'silent', 503, 200], faults);
    const delays = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const result = await consumeWith(faults.env, WEBHOOKS, [message], attempt);
      expect(result.retried).toEqual([message]);
      delays.push(...result.delays);
      const recorded = await deliveryOf(hook.id);
      expect(recorded).toMatchObject({ status: 'pending', attempts: attempt });
    }
    expect(delays).toEqual([10, 20, 40, 80]);
    expect((await consumeWith(faults.env, WEBHOOKS, [message], 5)).acked).toEqual([message]);
    expect(await deliveryOf(hook.id)).toMatchObject({
      status: 'succeeded',
      attempts: 5,
      last_status_code: 200,
      last_error: null,
    });
    expect(received).toHaveLength(5);
    // One delivery, one id: a receiver that saw an attempt it could not answer deduplicates.
    expect(new Set(received.map((r) => r.webhookId)).size).toBe(1);
  });

  it('the errors of each attempt are recorded: refused, status, timeout', async () => {
    const { hook, message } = await pendingDelivery();
    const faults = faultyEnv({ WEBHOOK_TIMEOUT_MS: '50' });
    endpointThatAnswers(['refused', 502, 'silent'], faults);
    const errors = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await consumeWith(faults.env, WEBHOOKS, [message], attempt);
      errors.push((await deliveryOf(hook.id)).last_error);
    }
    expect(errors[0]).toMatch(/Network connection lost/);
    expect(errors[1]).toBe('the endpoint answered 502');
    expect(errors[2]).toMatch(/TimeoutError|timed out|abort/i);
  });

  it('past the retry budget: dead-lettered, recorded as failed, and delivered when sent again', async () => {
    const { hook, message, queue } = await pendingDelivery();
    const faults = faultyEnv();
    const received = endpointThatAnswers(
      Array.from({ length: ATTEMPTS }, () => 500),
      faults,
    );
    const delays = [];
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      delays.push(...(await consumeWith(faults.env, WEBHOOKS, [message], attempt)).delays);
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560]);
    expect((await consumeWith(faults.env, `${WEBHOOKS}-dlq`, [message], 1)).acked).toEqual([message]);
    const failed = await deliveryOf(hook.id);
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: ATTEMPTS,
      last_status_code: 500,
      last_error: 'the endpoint answered 500',
    });
    expect(received).toHaveLength(ATTEMPTS);

    await callJson('POST', `/v1/webhooks/${hook.id}/deliveries/${failed.id}/resend`, 202);
    const again = drain(queue);
    expect(again).toEqual([{ kind: 'deliver', deliveryId: failed.id }]);
    expect((await consumeWith(faults.env, WEBHOOKS, again, 1)).acked).toEqual(again);
    expect(await deliveryOf(hook.id)).toMatchObject({ status: 'succeeded', attempts: ATTEMPTS + 1 });
  });

  it('a redelivered message after success sends nothing more', async () => {
    const { hook, message } = await pendingDelivery();
    const faults = faultyEnv();
    const received = endpointThatAnswers([200], faults);
    await consumeWith(faults.env, WEBHOOKS, [message], 1);
    await consumeWith(faults.env, WEBHOOKS, [message], 2);
    expect(received).toHaveLength(1);
    expect(await deliveryOf(hook.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});
