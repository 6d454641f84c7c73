import { unavailable, type DomainError } from '../core/errors';

/**
 * A version row whose file R2 no longer holds: the version cannot be served or downloaded
 * until it is uploaded again. Not the caller's fault, and no retry cures it (batch chunks fail
 * their rows at once rather than retrying).
 */
export function artifactMissing(key: string): DomainError {
  return unavailable(
    `the model file of this version (${key}) is missing from storage; upload the model again as a new version`,
    { code: 'artifact_missing' },
  );
}

/** The R2 keys a version owns: its artifact, and the serving graph the import wrote, if any. */
export const versionFiles = (v: { key: string; serving: { key: string } | null }): string[] =>
  // A remote version has no file (its key is empty).
  [v.key, v.serving?.key].filter((key): key is string => !!key);
