import { createExecutionContext, createScheduledController, env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { submitJob } from '../../workers/batch/jobs';
import { configFrom } from '../../workers/core/config';
import type { Env } from '../../workers/platform/env';
import { database } from '../../workers/storage/db';
import { jobs, triggers, webhookDeliveries, webhookEndpoints } from '../../workers/storage/schema';
import { deliver } from '../../workers/webhooks/delivery';
import { createEndpoint, rotateEndpointSecret } from '../../workers/webhooks/endpoints';
import { reencryptSecrets } from '../../workers/webhooks/reencrypt-secrets';
import { openSigningSecrets, secretContext } from '../../workers/webhooks/stored-secrets';
import { createTrigger, receiveHook, rotateTriggerSecret } from '../../workers/batch/triggers';
import worker from '../../workers/index';
import { depsFor, fixture, newModel } from '../helpers';

/*
 * Issue 13, point 10: webhook, trigger and per-job webhook secrets were stored in plain text.
 * They are sealed with AES-256-GCM under SECRETS_ENCRYPTION_KEY, for the row they belong to.
 */

const KEY_A = btoa(String.fromCharCode(...new Uint8Array(32).fill(0xa1)));
const KEY_B = btoa(String.fromCharCode(...new Uint8Array(32).fill(0xb2)));
const withKeys = (vars: Partial<Env>) => ({ ...env, ...vars }) as Env;
const scope = { workspaceId: 'ws_secrets', actorId: 'admin' };
const db = database(env.DB);
const SEALED = /^mfs1:[0-9a-f]{16}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/;

afterEach(() => vi.restoreAllMocks());

function deps(on: Env = env) {
  return depsFor(on);
}

/** Records the requests the platform sends, as the receiving server would see them. */
function receiver() {
  const received: { body: string; headers: Record<string, string> }[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    received.push({ body: await request.text(), headers: Object.fromEntries(request.headers) });
    return new Response('ok');
  });
  return received;
}

async function deliveryTo(endpointId: string | null, jobId: string | null = null): Promise<string> {
  const id = `msg_${crypto.randomUUID().replaceAll('-', '')}`;
  await db.insert(webhookDeliveries).values({
    id,
    workspaceId: scope.workspaceId,
    endpointId,
    jobId,
    event: 'job.succeeded',
    payload: JSON.stringify({ type: 'job.succeeded', data: { n: 1 } }),
    createdAt: Date.now(),
  });
  return id;
}

function signedHook(secret: string, body: unknown) {
  const payload = JSON.stringify(body);
  const id = `evt_${crypto.randomUUID()}`;
  const at = new Date();
  return {
    payload,
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, payload),
    },
    input: (text: string) => ({ rows: (JSON.parse(text) as { rows: unknown[] }).rows }),
  };
}

const endpointRow = async (id: string) =>
  (await db.query.webhookEndpoints.findFirst({ where: eq(webhookEndpoints.id, id) }))!;

describe('signing secrets at rest', () => {
  it('stores endpoint, trigger and per-job webhook secrets encrypted, never the plaintext', async () => {
    const d = deps();
    const endpoint = await createEndpoint(d, scope, { url: 'https://hooks.example.com/x', events: ['job.succeeded'] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const storedEndpoint = await endpointRow(endpoint.id);
    expect(storedEndpoint.secret).toMatch(SEALED);
    expect(storedEndpoint.secret).not.toContain(endpoint.secret.slice(6));

    const model = await newModel(fixture('generated/regressor.onnx'), 'sec');
    const trigger = await createTrigger(d, { ...scope, workspaceId: 'ws_default' }, { name: 't', model });
    const storedTrigger = (await db.query.triggers.findFirst({ where: eq(triggers.id, trigger.id) }))!;
    expect(trigger.secret).toMatch(/^whsec_/);
    expect(storedTrigger.secret).toMatch(SEALED);
    expect(storedTrigger.secret).not.toContain(trigger.secret.slice(6));

    vi.spyOn(env.BATCH_QUEUE, 'send').mockResolvedValue(undefined as never);
    const { job, webhookSecret } = await submitJob(
      d,
      { ...scope, workspaceId: 'ws_default' },
      {
        model,
        input: { rows: [[1, 2]] },
        webhookUrl: 'https://hooks.example.com/job',
      },
    );
    expect(webhookSecret).toMatch(/^whsec_/);
    const storedJob = (await db.query.jobs.findFirst({ where: eq(jobs.id, job.id) }))!;
    expect(storedJob.webhookSecret).toMatch(SEALED);
    expect(storedJob.webhookSecret).not.toContain(webhookSecret!.slice(6));
  });

  it('signs outbound deliveries with the decrypted secrets: the receiver verifies them', async () => {
    const d = deps();
    const endpoint = await createEndpoint(d, scope, { url: 'https://hooks.example.com/x', events: ['job.succeeded'] });
    const received = receiver();
    await deliver(d, await deliveryTo(endpoint.id));
    expect(new Webhook(endpoint.secret).verify(received[0]!.body, received[0]!.headers)).toMatchObject({
      type: 'job.succeeded',
    });

    // After a rotation both secrets sign, and each verifies on its own.
    const rotated = await rotateEndpointSecret(d, scope, endpoint.id);
    expect(rotated.secret).not.toBe(endpoint.secret);
    const stored = await endpointRow(endpoint.id);
    expect(stored.secret).toMatch(SEALED);
    expect(stored.previousSecret).toMatch(SEALED);
    await deliver(d, await deliveryTo(endpoint.id));
    for (const secret of [endpoint.secret, rotated.secret])
      expect(() => new Webhook(secret).verify(received[1]!.body, received[1]!.headers)).not.toThrow();

    // A job's own webhook.
    const model = await newModel(fixture('generated/regressor.onnx'), 'sec');
    vi.spyOn(env.BATCH_QUEUE, 'send').mockResolvedValue(undefined as never);
    const { job, webhookSecret } = await submitJob(
      d,
      { ...scope, workspaceId: 'ws_default' },
      {
        model,
        input: { rows: [[1, 2]] },
        webhookUrl: 'https://hooks.example.com/job',
      },
    );
    await deliver(d, await deliveryTo(null, job.id));
    expect(() => new Webhook(webhookSecret!).verify(received[2]!.body, received[2]!.headers)).not.toThrow();
  });

  it('verifies inbound trigger calls against the decrypted secret, and the previous one after a rotation', async () => {
    const d = deps();
    const model = await newModel(fixture('generated/regressor.onnx'), 'sec');
    vi.spyOn(env.BATCH_QUEUE, 'send').mockResolvedValue(undefined as never);
    const trigger = await createTrigger(d, { ...scope, workspaceId: 'ws_default' }, { name: 't', model });
    const started = await receiveHook(d, trigger.id, signedHook(trigger.secret, { rows: [[1, 2]] }));
    expect(started).toMatchObject({ duplicate: false, jobId: expect.stringMatching(/^job_/) });
    await expect(
      receiveHook(d, trigger.id, signedHook('whsec_' + btoa('x'.repeat(24)), { rows: [[1]] })),
    ).rejects.toMatchObject({ kind: 'unauthenticated' });
    const rotated = await rotateTriggerSecret(d, { ...scope, workspaceId: 'ws_default' }, trigger.id);
    for (const secret of [trigger.secret, rotated.secret]) {
      expect((await receiveHook(d, trigger.id, signedHook(secret, { rows: [[3, 4]] }))).duplicate).toBe(false);
    }
  });

  it('keeps reading secrets stored in plain text before encryption, and the cron pass encrypts them', async () => {
    const plaintext = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = `whe_legacy_${crypto.randomUUID().slice(0, 8)}`;
    await db.insert(webhookEndpoints).values({
      id,
      workspaceId: scope.workspaceId,
      url: 'https://hooks.example.com/legacy',
      events: ['job.succeeded'],
      secret: plaintext,
      createdBy: 'admin',
      createdAt: Date.now(),
    });
    const d = deps();
    const received = receiver();
    await deliver(d, await deliveryTo(id));
    expect(() => new Webhook(plaintext).verify(received[0]!.body, received[0]!.headers)).not.toThrow();

    const pass = await reencryptSecrets(d.db, d.config, { limit: 1000 });
    expect(pass.reencrypted).toBeGreaterThanOrEqual(1);
    expect(pass.remaining).toBe(0);
    expect((await endpointRow(id)).secret).toMatch(SEALED);
    await deliver(d, await deliveryTo(id));
    expect(() => new Webhook(plaintext).verify(received[1]!.body, received[1]!.headers)).not.toThrow();
  });

  it('rotates the encryption key: the previous key still decrypts, the pass moves every row to the new one', async () => {
    const underA = deps(withKeys({ SECRETS_ENCRYPTION_KEY: KEY_A }));
    const endpoint = await createEndpoint(underA, scope, {
      url: 'https://hooks.example.com/r',
      events: ['job.succeeded'],
    });
    const rotatedSigning = await rotateEndpointSecret(underA, scope, endpoint.id); // previous_secret set too
    const sealedA = await endpointRow(endpoint.id);

    // B is current now, A kept in SECRETS_PREVIOUS_KEYS: deliveries still sign with both secrets.
    // (The suite's own key stays a previous one too: other rows of this database were sealed with it.)
    const underB = deps(
      withKeys({ SECRETS_ENCRYPTION_KEY: KEY_B, SECRETS_PREVIOUS_KEYS: `${KEY_A},${env.SECRETS_ENCRYPTION_KEY}` }),
    );
    const received = receiver();
    await deliver(underB, await deliveryTo(endpoint.id));
    for (const secret of [endpoint.secret, rotatedSigning.secret])
      expect(() => new Webhook(secret).verify(received[0]!.body, received[0]!.headers)).not.toThrow();

    const pass = await reencryptSecrets(underB.db, underB.config, { limit: 1000 });
    expect(pass).toMatchObject({ unreadable: 0, remaining: 0, keyMissing: false });
    const sealedB = await endpointRow(endpoint.id);
    expect(sealedB.secret.split(':')[1]).not.toBe(sealedA.secret.split(':')[1]);
    expect(sealedB.previousSecret!.split(':')[1]).toBe(sealedB.secret.split(':')[1]);

    // With A gone, B alone opens both.
    const onlyB = configFrom(withKeys({ SECRETS_ENCRYPTION_KEY: KEY_B }));
    expect(await openSigningSecrets(onlyB, secretContext.endpoint(endpoint.id), sealedB)).toEqual([
      rotatedSigning.secret,
      endpoint.secret,
    ]);
    // …and A alone no longer does: a clear configuration error naming the variables.
    const onlyA = configFrom(withKeys({ SECRETS_ENCRYPTION_KEY: KEY_A }));
    await expect(openSigningSecrets(onlyA, secretContext.endpoint(endpoint.id), sealedB)).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'secrets_key_unknown',
      message: expect.stringMatching(/neither SECRETS_ENCRYPTION_KEY nor SECRETS_PREVIOUS_KEYS/),
    });
  });

  it('the cron trigger runs the pass: a plain trigger secret is sealed within five minutes', async () => {
    const id = `trg_legacy_${crypto.randomUUID().slice(0, 8)}`;
    await db.insert(triggers).values({
      id,
      workspaceId: scope.workspaceId,
      name: 'legacy',
      modelName: 'none',
      chunkSize: 10,
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      createdBy: 'admin',
      createdAt: Date.now(),
    });
    // The pass reports at info, or at warn when some rows could not be read.
    const logs = vi.fn();
    vi.spyOn(console, 'log').mockImplementation(logs);
    vi.spyOn(console, 'warn').mockImplementation(logs);
    await worker.scheduled(
      createScheduledController({ cron: '*/5 * * * *', scheduledTime: Date.now() }),
      env,
      createExecutionContext(),
    );
    const row = (await db.query.triggers.findFirst({ where: eq(triggers.id, id) }))!;
    expect(row.secret).toMatch(SEALED);
    const line = logs.mock.calls.map((c) => String(c[0])).find((l) => l.includes('stored secrets re-encrypted'));
    // (Rows sealed under the rotation test's keys are unreadable with this suite's key: a warning.)
    expect(JSON.parse(line!)).toMatchObject({ msg: 'stored secrets re-encrypted', reencrypted: expect.any(Number) });
    expect(JSON.parse(line!).reencrypted).toBeGreaterThanOrEqual(1);
  });

  it('drops previous secrets past their overlap instead of re-encrypting them', async () => {
    const d = deps();
    const endpoint = await createEndpoint(d, scope, { url: 'https://hooks.example.com/o', events: ['job.succeeded'] });
    await rotateEndpointSecret(d, scope, endpoint.id);
    const pass = await reencryptSecrets(d.db, d.config, { now: Date.now() + 25 * 3600 * 1000 });
    expect(pass.expiredCleared).toBeGreaterThanOrEqual(1);
    expect(await endpointRow(endpoint.id)).toMatchObject({ previousSecret: null, previousSecretExpiresAt: null });
  });
});

describe('a wrong or missing encryption key is a configuration error', () => {
  it('refuses a key that is not 32 bytes of base64 when the worker starts', () => {
    for (const key of ['short', 'x'.repeat(44), btoa('sixteen bytes!!!')]) {
      const start = () => configFrom(withKeys({ SECRETS_ENCRYPTION_KEY: key }));
      expect(start).toThrow(/^invalid configuration: .*32 random bytes in base64/s);
      expect(start).toThrow(/at SECRETS_ENCRYPTION_KEY/);
    }
    expect(() => configFrom(withKeys({ SECRETS_PREVIOUS_KEYS: `${KEY_A}, nope` }))).toThrow(/SECRETS_PREVIOUS_KEYS/);
    // base64url without padding is the same key
    const url = KEY_A.replaceAll('+', '-').replaceAll('/', '_').replace(/=$/, '');
    expect(configFrom(withKeys({ SECRETS_ENCRYPTION_KEY: url })).SECRETS_ENCRYPTION_KEY).toEqual(
      configFrom(withKeys({ SECRETS_ENCRYPTION_KEY: KEY_A })).SECRETS_ENCRYPTION_KEY,
    );
  });

  it('without a key, creating a secret answers 503 naming SECRETS_ENCRYPTION_KEY, and nothing is stored', async () => {
    const { SECRETS_ENCRYPTION_KEY: _, ...rest } = env;
    const d = deps(rest as Env);
    const before = (await db.select().from(webhookEndpoints)).length;
    await expect(
      createEndpoint(d, scope, { url: 'https://hooks.example.com/none', events: ['job.succeeded'] }),
    ).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'secrets_key_missing',
      message: expect.stringMatching(/^SECRETS_ENCRYPTION_KEY is not set/),
    });
    expect((await db.select().from(webhookEndpoints)).length).toBe(before);
  });

  it('a secret moved to another row, or altered, does not decrypt', async () => {
    const d = deps();
    const one = await createEndpoint(d, scope, { url: 'https://hooks.example.com/1', events: ['job.succeeded'] });
    const two = await createEndpoint(d, scope, { url: 'https://hooks.example.com/2', events: ['job.succeeded'] });
    const stolen = (await endpointRow(one.id)).secret;
    await db.update(webhookEndpoints).set({ secret: stolen }).where(eq(webhookEndpoints.id, two.id));
    await expect(
      openSigningSecrets(d.config, secretContext.endpoint(two.id), await endpointRow(two.id)),
    ).rejects.toMatchObject({ code: 'secrets_undecryptable' });
    const flipped = stolen.slice(0, -2) + (stolen.at(-2) === 'A' ? 'B' : 'A') + stolen.at(-1);
    await expect(
      openSigningSecrets(d.config, secretContext.endpoint(one.id), { ...(await endpointRow(one.id)), secret: flipped }),
    ).rejects.toMatchObject({ code: 'secrets_undecryptable' });
    // A delivery meeting such a row is retried with the reason recorded, not sent unsigned.
    const received = receiver();
    const deliveryId = await deliveryTo(two.id);
    await expect(deliver(d, deliveryId)).rejects.toThrow(/does not decrypt/);
    expect(received).toEqual([]);
    const row = await db.query.webhookDeliveries.findFirst({ where: eq(webhookDeliveries.id, deliveryId) });
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/does not decrypt/) });
  });
});
