import { sha256 } from './secrets';

/**
 * Compares two secrets in time that depends on neither: both are hashed first, so the
 * comparison sees equal-length digests whatever the lengths of the inputs.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  return digestMatches(await sha256(given), expected);
}

/**
 * secretsEqual for a caller that holds the given secret's SHA-256 already. The expected side is
 * hashed on each call: callers keep what a credential grants (auth/authenticate.ts), so this runs
 * once per credential an isolate sees, not once per request.
 */
export async function digestMatches(givenDigest: ArrayBuffer, expected: string): Promise<boolean> {
  return crypto.subtle.timingSafeEqual(givenDigest, await sha256(expected));
}
