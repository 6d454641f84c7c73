import { sha256 } from './secrets';

/** The expected side is one of a few configured secrets: each digest is worked out once. */
const expectedDigests = new Map<string, Promise<ArrayBuffer>>();

function digestOfExpected(secret: string): Promise<ArrayBuffer> {
  let digest = expectedDigests.get(secret);
  if (!digest) {
    if (expectedDigests.size >= 8) expectedDigests.clear();
    digest = sha256(secret);
    expectedDigests.set(secret, digest);
  }
  return digest;
}

/**
 * Compares two secrets in time that depends on neither: both are hashed first, so the
 * comparison sees equal-length digests whatever the lengths of the inputs.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  return digestMatches(await sha256(given), expected);
}

/** secretsEqual for a caller that holds the given secret's SHA-256 already. */
export async function digestMatches(givenDigest: ArrayBuffer, expected: string): Promise<boolean> {
  return crypto.subtle.timingSafeEqual(givenDigest, await digestOfExpected(expected));
}
