import { eq } from 'drizzle-orm';
import type { Config } from '../core/config';
import { notFound, unauthenticated } from '../core/errors';
import type { Db } from '../storage/db';
import { triggers } from '../storage/schema';
import { verifyDelivery } from './secrets';
import { openSigningSecrets, secretContext } from './stored-secrets';

/*
 * The inbound end of a trigger proves who sent it by its signature alone, so the signature is
 * checked before anything is charged to the trigger: a stranger's unsigned POSTs must not spend
 * the budget of the system that holds the secret (issue 13, point 6). The checks come in two
 * steps so that the cheap one can refuse junk without touching D1:
 *
 *   precheckHookHeaders   no I/O: the three headers present and well-formed, the timestamp
 *                         within the five-minute window;
 *   verifyHookSignature   one D1 read and an HMAC per active secret, in constant time.
 *
 * Only a delivery that passes both may be charged to the trigger's own budget and start a job
 * (triggers.ts, startVerifiedHook); a refusal is charged to the sender's address instead.
 */

/** How far webhook-timestamp may be from now, as the Standard Webhooks reference library allows. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;
/** Standard Webhooks leaves the id's form to the sender; its length is bounded (it is stored). */
const MAX_WEBHOOK_ID = 256;
const TIMESTAMP = /^(0|[1-9]\d{0,15})$/;
const SIGNATURE = /(^| )v1,[A-Za-z0-9+/]{43}=( |$)/;

export interface HookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Why the headers cannot carry a valid signature (refused without I/O), or undefined. */
export function precheckHookHeaders(headers: HookHeaders, now = Date.now()): string | undefined {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  // The reference library's wording, which senders' logs already know.
  if (!id || !timestamp || !signature) {
    return 'Missing required headers (webhook-id, webhook-timestamp and webhook-signature): unsigned';
  }
  if (id.length > MAX_WEBHOOK_ID) return `the webhook-id header is longer than ${MAX_WEBHOOK_ID} characters`;
  if (!TIMESTAMP.test(timestamp)) return 'the webhook-timestamp header must be whole seconds since the Unix epoch';
  const age = Math.floor(now / 1000) - Number(timestamp); // whole seconds, as the library counts
  if (age > TIMESTAMP_TOLERANCE_SECONDS) return 'Message timestamp too old (more than five minutes: a replay?)';
  if (age < -TIMESTAMP_TOLERANCE_SECONDS) return 'Message timestamp too new (more than five minutes ahead)';
  if (!SIGNATURE.test(signature)) return 'no signature of the form v1,<base64 HMAC-SHA256>';
  return undefined;
}

export type TriggerRow = typeof triggers.$inferSelect;

/**
 * The trigger, once the delivery is proven to come from a holder of its secret (current, or
 * previous during a rotation's overlap). Throws 404 for an unknown trigger and 401 for anything
 * unsigned, stale or forged: charge those to the sender's address, never to the trigger.
 */
export async function verifyHookSignature(
  deps: { db: Db; config: Config },
  triggerId: string,
  payload: string,
  headers: HookHeaders,
  now = Date.now(),
): Promise<TriggerRow> {
  const early = precheckHookHeaders(headers, now);
  if (early) throw unauthenticated(`webhook signature refused: ${early}`, { code: 'invalid_signature' });
  const trigger = await deps.db.query.triggers.findFirst({ where: eq(triggers.id, triggerId) });
  if (!trigger) throw notFound(`trigger '${triggerId}' not found`, { code: 'trigger_not_found' });
  const secrets = await openSigningSecrets(deps.config, secretContext.trigger(trigger.id), trigger);
  const refusal = verifyDelivery(secrets, payload, { ...headers });
  if (refusal) throw unauthenticated(`webhook signature refused: ${refusal}`, { code: 'invalid_signature' });
  return trigger;
}
