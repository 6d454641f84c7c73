import { base64url } from './secrets';

/*
 * PBKDF2-SHA256 through WebCrypto. 100,000 iterations is the most the Workers runtime allows;
 * the stored string names the algorithm and count so a later change can rehash on login.
 */
const ITERATIONS = 100_000;
const encoder = new TextEncoder();

function fromBase64url(text: string): Uint8Array {
  return Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  return crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, ITERATIONS);
  return `pbkdf2-sha256$${ITERATIONS}$${base64url(salt)}$${base64url(new Uint8Array(hash))}`;
}

/** Compares in constant time; a malformed stored value never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split('$');
  if (scheme !== 'pbkdf2-sha256' || !iterations || !salt || !hash) return false;
  const expected = fromBase64url(hash);
  const actual = new Uint8Array(await derive(password, fromBase64url(salt), Number(iterations)));
  return actual.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(actual, expected);
}

/**
 * A hash no password matches, verified when the e-mail is unknown so that a failed login
 * takes as long whether the address exists or not.
 */
export const UNUSABLE_PASSWORD_HASH = `pbkdf2-sha256$${ITERATIONS}$${'A'.repeat(22)}$${'A'.repeat(43)}`;
