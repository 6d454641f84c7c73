import { scrypt } from 'node:crypto';
import { invalidInput } from '../core/errors';
import { base64url } from './secrets';

/*
 * Passwords are hashed with scrypt, memory-hard, through workerd's native node:crypto
 * (nodejs_compat): a pure-JavaScript scrypt or argon2 would cost several times the CPU, and
 * WebAssembly ones cannot be compiled from bytes inside a Worker. N = 2^14, r = 8 holds 16 MiB
 * per hash; p = 5 is OWASP's equivalent of N = 2^17 at that memory. Measured inside workerd
 * (npm run bench:passwords): 145-190 ms of CPU per hash or verification here and 160 ms for a
 * whole login, where N = 2^17 (128 MiB, p = 1) took 260-350 ms; the deployed isolate's 128 MB is
 * shared with onnxruntime's heap, so memory, not CPU, is what bounds N. PBKDF2 took 13-15 ms.
 *
 * The stored string names the scheme and its cost, so hashes made with an older cost (or
 * PBKDF2-SHA256, used before scrypt) still verify and are re-hashed at the next login.
 */

export interface ScryptCost {
  /** CPU/memory cost, a power of two: memory is 128·N·r bytes. */
  N: number;
  r: number;
  p: number;
}

export const SCRYPT_COST: ScryptCost = { N: 2 ** 14, r: 8, p: 5 };

/** Stored costs beyond these are refused rather than computed (a hash must not become a DoS). */
const MAX_COST: ScryptCost = { N: 2 ** 17, r: 16, p: 16 };
const PBKDF2_MAX_ITERATIONS = 100_000;
const KEY_BYTES = 32;

/** What register, change and reset accept (the route schemas say the same). */
export const PASSWORD_LENGTH = { min: 10, max: 256 };

export function requirePasswordPolicy(password: string): void {
  if (password.length < PASSWORD_LENGTH.min || password.length > PASSWORD_LENGTH.max) {
    throw invalidInput(`passwords have ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters`, {
      code: 'weak_password',
    });
  }
}
const encoder = new TextEncoder();

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));
}

function scryptKey(password: string, salt: Uint8Array, cost: ScryptCost, length = KEY_BYTES): Promise<Uint8Array> {
  const maxmem = 128 * cost.N * cost.r + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(encoder.encode(password), salt, length, { ...cost, maxmem }, (err, derived) =>
      err ? reject(err) : resolve(new Uint8Array(derived)),
    ),
  );
}

async function pbkdf2Key(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

const costText = (c: ScryptCost) => `ln=${Math.log2(c.N)},r=${c.r},p=${c.p}`;

/** `scrypt$ln=14,r=8,p=5$<salt>$<hash>`, base64url. */
export async function hashPassword(password: string, cost: ScryptCost = SCRYPT_COST): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await scryptKey(password, salt, cost);
  return `scrypt$${costText(cost)}$${base64url(salt)}$${base64url(hash)}`;
}

function scryptCostOf(text: string): ScryptCost | undefined {
  const match = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const cost = { N: 2 ** Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const within = cost.N >= 2 && cost.N <= MAX_COST.N && cost.r >= 1 && cost.r <= MAX_COST.r;
  return within && cost.p >= 1 && cost.p <= MAX_COST.p ? cost : undefined;
}

export interface PasswordCheck {
  ok: boolean;
  /** The password matched a hash of an older scheme or cost: store hashPassword(password). */
  needsRehash: boolean;
}

/**
 * Compares in constant time; a malformed stored value (or a cost out of bounds) never matches.
 * (Named apart from the boolean `verifyPassword` it replaced: its answer is an object, which a
 * caller written for a boolean would always find true.)
 */
export async function checkPassword(password: string, stored: string): Promise<PasswordCheck> {
  const [scheme, params, salt, hash] = stored.split('$');
  if (!params || !salt || !hash) return { ok: false, needsRehash: false };
  const expected = fromBase64url(hash);
  let actual: Uint8Array;
  let current = false;
  if (scheme === 'scrypt') {
    const cost = scryptCostOf(params);
    if (!cost) return { ok: false, needsRehash: false };
    actual = await scryptKey(password, fromBase64url(salt), cost, expected.byteLength);
    current = params === costText(SCRYPT_COST);
  } else if (scheme === 'pbkdf2-sha256') {
    const iterations = Number(params);
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > PBKDF2_MAX_ITERATIONS) {
      return { ok: false, needsRehash: false };
    }
    actual = await pbkdf2Key(password, fromBase64url(salt), iterations);
  } else {
    return { ok: false, needsRehash: false };
  }
  const ok = actual.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(actual, expected);
  return { ok, needsRehash: ok && !current };
}

/**
 * A hash no password matches, verified when the e-mail is unknown so that a failed login
 * takes as long whether the address exists or not.
 */
export const UNUSABLE_PASSWORD_HASH = `scrypt$${costText(SCRYPT_COST)}$${'A'.repeat(22)}$${'A'.repeat(43)}`;
