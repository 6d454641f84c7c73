import type { Config } from '../core/config';
import { openSecret, sealSecret, secretKeyring } from '../core/secret-box';
import { ROTATION_OVERLAP_MS, activeSecrets, newSigningSecret, type SigningSecrets } from './secrets';

/*
 * Signing secrets as D1 keeps them: encrypted for the row they belong to (core/secret-box.ts).
 * The plaintext exists only in the answer that shows it once and while signing or verifying.
 */

type KeyConfig = Pick<Config, 'SECRETS_ENCRYPTION_KEY' | 'SECRETS_PREVIOUS_KEYS'>;

/** The row a stored secret belongs to: its table and id, authenticated with the ciphertext. */
export const secretContext = {
  endpoint: (id: string) => `webhook_endpoints:${id}`,
  trigger: (id: string) => `triggers:${id}`,
  job: (id: string) => `jobs:${id}`,
};

/** A new signing secret: the plaintext to show once, and what to store. */
export async function newStoredSecret(
  config: KeyConfig,
  context: string,
): Promise<{ plaintext: string; stored: string }> {
  const plaintext = newSigningSecret();
  return { plaintext, stored: await sealSecret(await secretKeyring(config), plaintext, context) };
}

/** One stored secret in the clear (a plain value stored before encryption, as it is). */
export async function openStoredSecret(config: KeyConfig, context: string, stored: string): Promise<string> {
  return openSecret(await secretKeyring(config), stored, context);
}

/** The secrets that sign or verify now (current, and previous during the overlap), in the clear. */
export async function openSigningSecrets(config: KeyConfig, context: string, row: SigningSecrets): Promise<string[]> {
  const keyring = await secretKeyring(config);
  return Promise.all(activeSecrets(row).map((stored) => openSecret(keyring, stored, context)));
}

/**
 * The columns a rotation writes: a new secret, and the current one kept valid for the overlap
 * (re-encrypted under the current key); with the new plaintext, to show once.
 */
export async function storedRotation(config: KeyConfig, context: string, currentStored: string, now = Date.now()) {
  const keyring = await secretKeyring(config);
  const next = await newStoredSecret(config, context);
  const previous = await sealSecret(keyring, await openSecret(keyring, currentStored, context), context);
  return {
    plaintext: next.plaintext,
    columns: { secret: next.stored, previousSecret: previous, previousSecretExpiresAt: now + ROTATION_OVERLAP_MS },
  };
}
