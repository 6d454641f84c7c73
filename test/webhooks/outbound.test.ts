import { env } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkWebhookUrl } from '../../workers/webhooks/url-policy';
import { call, callJson, fixture, newModel, uploadRaw } from '../helpers';
import { captureBatchQueue, captureWebhookQueue, consume, drain, runAll } from '../batch/queue-driver';

afterEach(async () => {
  vi.restoreAllMocks();
  // Endpoints live in the shared default workspace: leave none behind for other suites' events.
  for (const hook of (await callJson('GET', '/v1/webhooks', 200)).webhooks)
    await call('DELETE', `/v1/webhooks/${hook.id}`);
});

interface Received {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** Stands in for the receiving server: records each request and answers with the next status. */
function receiver(statuses: number[]) {
  const received: Received[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    received.push({ url: request.url, body: await request.text(), headers: Object.fromEntries(request.headers) });
    return new Response('ok', { status: statuses.shift() ?? 200 });
  });
  return received;
}

async function endpoint(events: string[]) {
  return callJson('POST', '/v1/webhooks', 201, { body: { url: 'http://127.0.0.1:9/hooks', events } });
}

describe('outbound webhooks', () => {
  it('signs a job.succeeded delivery that the standardwebhooks library verifies, retried after a 500', async () => {
    const hook = await endpoint(['job.succeeded']);
    expect(hook.secret).toMatch(/^whsec_/);
    const model = await newModel(fixture('generated/regressor.onnx'), 'out');
    const batchQueue = captureBatchQueue();
    const webhookQueue = captureWebhookQueue();
    const job = await callJson('POST', '/v1/jobs', 202, { body: { model, input: { rows: [[1, 2]] } } });
    await runAll(batchQueue);
    const messages = drain(webhookQueue);
    const mine = [];
    for (const m of messages) {
      const row = await env.DB.prepare('select endpoint_id from webhook_deliveries where id = ?')
        .bind(m.deliveryId)
        .first<any>();
      if (row?.endpoint_id === hook.id) mine.push(m);
    }
    expect(mine).toHaveLength(1);
    const received = receiver([500, 200]);
    const first = await consume('modelflare-webhooks', mine, 1);
    expect(first.retryDelays).toEqual([10]);
    const second = await consume('modelflare-webhooks', mine, 2);
    expect(second.explicitAcks).toHaveLength(1);
    const ours = received.filter((r) => r.url === 'http://127.0.0.1:9/hooks');
    expect(ours).toHaveLength(2);
    for (const r of ours) {
      const event = new Webhook(hook.secret).verify(r.body, r.headers) as any;
      expect(event).toMatchObject({
        type: 'job.succeeded',
        data: { job_id: job.id, model, version: 1, status: 'succeeded' },
      });
    }
    expect(ours[0]!.headers['webhook-id']).toBe(ours[1]!.headers['webhook-id']);
    const { deliveries } = await callJson('GET', `/v1/webhooks/${hook.id}/deliveries`, 200);
    expect(deliveries[0]).toMatchObject({
      event: 'job.succeeded',
      status: 'succeeded',
      attempts: 2,
      last_status_code: 200,
      last_error: null,
    });
  });

  it('records failures, dead-letters them as failed, and re-sends on request', async () => {
    const hook = await endpoint(['model.version.created']);
    const webhookQueue = captureWebhookQueue();
    const model = await newModel(fixture('generated/regressor.onnx'), 'evt');
    const mine = [];
    for (const m of drain(webhookQueue)) {
      const row = await env.DB.prepare('select endpoint_id from webhook_deliveries where id = ?')
        .bind(m.deliveryId)
        .first<any>();
      if (row?.endpoint_id === hook.id) mine.push(m);
    }
    expect(mine).toHaveLength(1);
    receiver([503]);
    await consume('modelflare-webhooks', mine, 8);
    await consume('modelflare-webhooks-dlq', mine, 9);
    let { deliveries } = await callJson('GET', `/v1/webhooks/${hook.id}/deliveries`, 200);
    expect(deliveries[0]).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_status_code: 503,
      last_error: 'the endpoint answered 503',
    });
    const resent = await callJson('POST', `/v1/webhooks/${hook.id}/deliveries/${deliveries[0].id}/resend`, 202);
    expect(resent.status).toBe('pending');
    const again = drain(webhookQueue);
    expect(again).toEqual([{ kind: 'deliver', deliveryId: deliveries[0].id }]);
    const received = receiver([200]);
    await consume('modelflare-webhooks', again);
    ({ deliveries } = await callJson('GET', `/v1/webhooks/${hook.id}/deliveries`, 200));
    expect(deliveries[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    const event = JSON.parse(received[0]!.body);
    expect(event).toMatchObject({ type: 'model.version.created', data: { model, version: 1 } });
  });

  it('announces alias moves, signs with both secrets during rotation, and a job’s own webhook URL', async () => {
    const hook = await endpoint(['alias.moved']);
    const rotated = await callJson('POST', `/v1/webhooks/${hook.id}/rotate-secret`, 200);
    const model = await newModel(fixture('generated/regressor.onnx'), 'mv');
    await uploadRaw(model, fixture('generated/regressor2.onnx'));
    const webhookQueue = captureWebhookQueue();
    await callJson('PUT', `/v1/models/${model}/aliases/production`, 200, { body: { version: 2 } });
    const received = receiver([]);
    await consume('modelflare-webhooks', drain(webhookQueue));
    const delivered = received.find((r) => JSON.parse(r.body).data?.model === model)!;
    expect(JSON.parse(delivered.body)).toMatchObject({
      type: 'alias.moved',
      data: { alias: 'production', version: 2, previous_version: null },
    });
    expect(delivered.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(hook.secret).verify(delivered.body, delivered.headers)).not.toThrow();
    expect(() => new Webhook(rotated.secret).verify(delivered.body, delivered.headers)).not.toThrow();

    const batchQueue = captureBatchQueue();
    const job = await callJson('POST', '/v1/jobs', 202, {
      body: { model, input: { rows: [[1, 1]] }, webhook_url: 'http://127.0.0.1:9/done' },
    });
    expect(job.webhook_secret).toMatch(/^whsec_/);
    await runAll(batchQueue);
    const jobReceived = receiver([]);
    await consume('modelflare-webhooks', drain(webhookQueue));
    const jobEvent = jobReceived.find((r) => r.url === 'http://127.0.0.1:9/done')!;
    expect(new Webhook(job.webhook_secret).verify(jobEvent.body, jobEvent.headers)).toMatchObject({
      type: 'job.succeeded',
    });
  });

  it('manages endpoints: validation, update, disable, delete', async () => {
    const bad = await callJson('POST', '/v1/webhooks', 400, { body: { url: 'not a url', events: ['job.failed'] } });
    expect(bad.error.message).toMatch(/not an absolute URL/);
    expect(
      (await callJson('POST', '/v1/webhooks', 400, { body: { url: 'https://x.test', events: ['job.exploded'] } })).error
        .message,
    ).toMatch(/events/);
    const hook = await endpoint(['job.failed']);
    const updated = await callJson('PATCH', `/v1/webhooks/${hook.id}`, 200, {
      body: { enabled: false, events: ['job.failed', 'job.cancelled'] },
    });
    expect(updated).toMatchObject({ enabled: false, events: ['job.failed', 'job.cancelled'] });
    expect(updated).not.toHaveProperty('secret');
    expect((await callJson('GET', '/v1/webhooks', 200)).webhooks.some((w: any) => w.id === hook.id)).toBe(true);
    expect((await call('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(204);
    expect((await callJson('GET', `/v1/webhooks/${hook.id}`, 404)).error.code).toBe('webhook_not_found');
  });
});

describe('webhook URL policy outside local development', () => {
  const production = { ENVIRONMENT: 'production' as const };
  it('accepts public https URLs', () => {
    expect(checkWebhookUrl('https://hooks.example.com/modelflare?x=1', production)).toBe(
      'https://hooks.example.com/modelflare?x=1',
    );
  });
  const refused: [string, RegExp][] = [
    ['http://hooks.example.com/x', /must use https/],
    ['https://localhost/x', /private, loopback or internal/],
    ['https://127.0.0.1/x', /private/],
    ['https://10.1.2.3/x', /private/],
    ['https://172.20.0.1/x', /private/],
    ['https://192.168.1.10/x', /private/],
    ['https://169.254.169.254/latest/meta-data', /private/],
    ['https://100.64.0.1/x', /private/],
    ['https://[::1]/x', /private/],
    ['https://[fd00::1]/x', /private/],
    ['https://[fe80::1]/x', /private/],
    ['https://[::ffff:10.0.0.1]/x', /private/],
    ['https://metadata.internal/x', /internal/],
    ['https://user:pass@hooks.example.com/x', /credentials/],
  ];
  for (const [url, message] of refused) {
    it(`refuses ${url}`, () => expect(() => checkWebhookUrl(url, production)).toThrow(message));
  }
  it('allows http and loopback in local development', () => {
    expect(checkWebhookUrl('http://127.0.0.1:9000/hook', { ENVIRONMENT: 'development' })).toBe(
      'http://127.0.0.1:9000/hook',
    );
  });
});
