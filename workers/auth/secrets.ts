/*
 * High-entropy secrets handed to clients (API keys, refresh tokens, invitation tokens). They
 * carry 256 random bits, so a single SHA-256 is the right way to store them: unlike
 * passwords there is nothing to guess, and the hash can be looked up directly.
 */
const encoder = new TextEncoder();

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** `prefix` followed by 32 random bytes, base64url (43 characters). */
export function newSecret(prefix: string): string {
  return prefix + base64url(crypto.getRandomValues(new Uint8Array(32)));
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function hexOf(digest: ArrayBuffer): string {
  let hex = '';
  for (const b of new Uint8Array(digest)) hex += HEX[b];
  return hex;
}

export const sha256 = (text: string): Promise<ArrayBuffer> => crypto.subtle.digest('SHA-256', encoder.encode(text));

export async function sha256Hex(text: string): Promise<string> {
  return hexOf(await sha256(text));
}

/** What client secrets look like: a known prefix and base64url; anything else is not looked up. */
export const SECRET_SHAPE = (prefix: string) => new RegExp(`^${prefix}[A-Za-z0-9_-]{43}$`);

export const API_KEY_PREFIX = 'mfk_';
export const REFRESH_TOKEN_PREFIX = 'mfr_';
export const INVITATION_PREFIX = 'mfi_';
