import { Webhook } from 'standardwebhooks';

/*
 * Standard Webhooks (standardwebhooks.com) signing through the reference `standardwebhooks`
 * library, so senders and receivers share one implementation: HMAC-SHA256 over
 * `id.timestamp.body`, base64, `whsec_` secrets, space-separated signatures during rotation.
 */

/** How long the previous secret stays valid after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export function newSigningSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

export interface SigningSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
}

/** The secrets that sign or verify now: the current one, and the previous one during overlap. */
export function activeSecrets(s: SigningSecrets, now = Date.now()): string[] {
  const active = [s.secret];
  if (s.previousSecret && (s.previousSecretExpiresAt ?? 0) > now) active.push(s.previousSecret);
  return active;
}

export function signatureHeaders(secrets: string[], msgId: string, payload: string, at = new Date()) {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(msgId, at, payload));
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/*
 * The reference library reads webhook-timestamp with parseInt and each signature up to its
 * second comma, so a signed delivery whose timestamp became "0…", "…abc" or "….9", or whose
 * signature gained ",junk", still verified. Only the canonical forms reach it.
 */
const TIMESTAMP = /^(0|[1-9]\d{0,15})$/;
const SIGNATURE = /^v1,[A-Za-z0-9+/]{43}=$/;

function canonicalHeaders(headers: Record<string, string>): Record<string, string> | string {
  const timestamp = headers['webhook-timestamp'] ?? '';
  if (timestamp !== '' && !TIMESTAMP.test(timestamp)) {
    return 'the webhook-timestamp header must be whole seconds since the Unix epoch';
  }
  const given = headers['webhook-signature'] ?? '';
  const signatures = given.split(' ').filter((s) => SIGNATURE.test(s));
  if (given !== '' && signatures.length === 0) return 'no signature of the form v1,<base64 HMAC-SHA256>';
  return { ...headers, 'webhook-signature': signatures.join(' ') };
}

/**
 * Verifies a delivery against any active secret (the library compares in constant time and
 * refuses timestamps more than five minutes away). Returns undefined when it verifies, else why not.
 */
export function verifyDelivery(
  secrets: string[],
  payload: string,
  headers: Record<string, string>,
): string | undefined {
  const canonical = canonicalHeaders(headers);
  if (typeof canonical === 'string') return canonical;
  let reason = 'no matching signature';
  for (const secret of secrets) {
    try {
      new Webhook(secret).verify(payload, canonical, { jsonParse: false });
      return undefined;
    } catch (err) {
      reason = (err as Error).message;
      if (/timestamp|headers/i.test(reason)) return reason;
    }
  }
  return reason;
}
