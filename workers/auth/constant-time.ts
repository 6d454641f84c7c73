const encoder = new TextEncoder();

/**
 * Compares two secrets in time that depends on neither: both are hashed first, so the
 * comparison sees equal-length digests whatever the lengths of the inputs.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
