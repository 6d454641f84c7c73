import { env } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { configFrom } from '../../workers/core/config';
import type { Db } from '../../workers/storage/db';
import {
  TIMESTAMP_TOLERANCE_SECONDS,
  precheckHookHeaders,
  verifyHookSignature,
  type HookHeaders,
} from '../../workers/webhooks/hook-verification';
import { createTrigger, startVerifiedHook } from '../../workers/batch/triggers';
import { depsFor, fixture, newModel } from '../helpers';

/*
 * Issue 13, point 6: the trigger's budget was charged before its signature was checked, so 130
 * unsigned POSTs blocked the real sender. These are the checks a route runs before charging
 * anything: refusals are the sender's, never the trigger's.
 */

afterEach(() => vi.restoreAllMocks());

/** A database that fails the test if it is asked anything. */
const untouchable = new Proxy({} as Db, {
  get: () => {
    throw new Error('D1 was read for a delivery the headers alone refuse');
  },
});

function sign(secret: string, payload: string, at = new Date(), id = `evt_${crypto.randomUUID()}`): HookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, payload),
  };
}

describe('verifying an inbound webhook before any budget', () => {
  const config = configFrom(env);
  let trigger: { id: string; secret: string };
  beforeAll(async () => {
    const model = await newModel(fixture('generated/regressor.onnx'), 'hookv');
    const deps = depsFor(env);
    trigger = await createTrigger(deps, { workspaceId: 'ws_default', actorId: 'admin' }, { name: 'v', model });
  });

  it('refuses unsigned or malformed deliveries from the headers alone, without reading D1', async () => {
    const payload = '{"rows": [[1, 2]]}';
    const good = sign(trigger.secret, payload);
    const cases: [Partial<HookHeaders>, RegExp][] = [
      [{}, /^Missing required headers/],
      [{ ...good, 'webhook-signature': '' }, /^Missing required headers/],
      [{ ...good, 'webhook-id': 'x'.repeat(257) }, /longer than 256/],
      [{ ...good, 'webhook-timestamp': '12abc' }, /whole seconds/],
      [{ ...good, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 301) }, /too old/],
      [{ ...good, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) + 301) }, /too new/],
      [{ ...good, 'webhook-signature': 'v1,not-base64' }, /no signature of the form/],
    ];
    for (const [headers, reason] of cases) {
      const full = { 'webhook-id': '', 'webhook-timestamp': '', 'webhook-signature': '', ...headers };
      expect(precheckHookHeaders(full), JSON.stringify(headers)).toMatch(reason);
      await expect(verifyHookSignature({ db: untouchable, config }, trigger.id, payload, full)).rejects.toMatchObject({
        kind: 'unauthenticated',
        code: 'invalid_signature',
      });
    }
  });

  it('accepts the timestamp window exactly as the reference library does', () => {
    const payload = '{}';
    const now = Date.now();
    const at = (seconds: number) => sign(trigger.secret, payload, new Date(Math.floor(now / 1000 + seconds) * 1000));
    expect(precheckHookHeaders(at(-TIMESTAMP_TOLERANCE_SECONDS), now)).toBeUndefined();
    expect(precheckHookHeaders(at(TIMESTAMP_TOLERANCE_SECONDS), now)).toBeUndefined();
    expect(precheckHookHeaders(at(-TIMESTAMP_TOLERANCE_SECONDS - 1), now)).toMatch(/too old/);
    expect(precheckHookHeaders(at(TIMESTAMP_TOLERANCE_SECONDS + 1), now)).toMatch(/too new/);
  });

  it('answers 404 for an unknown trigger and 401 for a forged signature; the signed one passes', async () => {
    const deps = depsFor(env);
    const payload = '{"rows": [[1, 2]]}';
    await expect(
      verifyHookSignature(deps, 'trg_unknown', payload, sign(trigger.secret, payload)),
    ).rejects.toMatchObject({ kind: 'not_found', code: 'trigger_not_found' });
    const forged = sign(`whsec_${btoa('f'.repeat(24))}`, payload);
    await expect(verifyHookSignature(deps, trigger.id, payload, forged)).rejects.toMatchObject({
      kind: 'unauthenticated',
      code: 'invalid_signature',
      message: expect.stringMatching(/signature/),
    });
    const signed = sign(trigger.secret, payload);
    await expect(verifyHookSignature(deps, trigger.id, '{"rows": [[9, 9]]}', signed)).rejects.toMatchObject({
      code: 'invalid_signature',
    });
    const verified = await verifyHookSignature(deps, trigger.id, payload, signed);
    expect(verified.id).toBe(trigger.id);

    // …and only then is the job started, once per webhook-id.
    vi.spyOn(env.BATCH_QUEUE, 'send').mockResolvedValue(undefined as never);
    const delivery = { payload, headers: { ...signed }, input: () => ({ rows: [[1, 2]] }) };
    const first = await startVerifiedHook(deps, verified, delivery);
    const again = await startVerifiedHook(deps, verified, delivery);
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, jobId: first.jobId });
  });
});
