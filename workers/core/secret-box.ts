import { unavailable } from './errors';

/*
 * Secrets the platform must read back (webhook signing secrets: it signs with them, so it
 * cannot keep only a hash) are stored encrypted: AES-256-GCM through WebCrypto, with a key from
 * the worker secret SECRETS_ENCRYPTION_KEY. A stored value names its key, so the key can rotate:
 * former keys in SECRETS_PREVIOUS_KEYS still decrypt, and a re-encryption pass moves values to
 * the current key. The row a value belongs to is authenticated with it (AES-GCM's additional
 * data), so a value copied into another row, another tenant's, does not decrypt.
 *
 *   mfs1:<key id>:<iv, base64url>:<ciphertext and tag, base64url>
 *
 * Values stored before encryption existed (plain `whsec_…`) are read as they are.
 */

const PREFIX = 'mfs1';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A key as configured: 32 random bytes. */
export type SecretKeyBytes = Uint8Array<ArrayBuffer>;

export interface SecretKeyring {
  /** Encrypts; undefined when SECRETS_ENCRYPTION_KEY is not set. */
  current: { id: string; key: CryptoKey } | undefined;
  /** Every key that decrypts, by id: the current one and the previous ones. */
  byId: Map<string, CryptoKey>;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');

function fromB64url(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));
}

/** 32 bytes from base64 or base64url text, or undefined. */
export function keyBytesFrom(text: string): SecretKeyBytes | undefined {
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text.trim())) return undefined;
  const bytes = fromB64url(text.trim().replace(/=$/, ''));
  return bytes.byteLength === 32 ? bytes : undefined;
}

/** A key's id: not the key, and not enough of anything to learn it (HMAC of a label, 64 bits). */
async function keyId(bytes: SecretKeyBytes): Promise<string> {
  const hmac = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, encoder.encode('modelflare secret key id')));
  return [...mac.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function buildKeyring(
  current: SecretKeyBytes | undefined,
  previous: SecretKeyBytes[],
): Promise<SecretKeyring> {
  const byId = new Map<string, CryptoKey>();
  const load = async (bytes: SecretKeyBytes) => {
    const id = await keyId(bytes);
    const key = await crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
    byId.set(id, key);
    return { id, key };
  };
  for (const bytes of previous) await load(bytes);
  return { current: current && (await load(current)), byId };
}

export const isSealed = (stored: string) => stored.startsWith(`${PREFIX}:`);

/** The id of the key a stored value was encrypted with; undefined for a plain value. */
export function sealedKeyId(stored: string): string | undefined {
  return isSealed(stored) ? stored.split(':')[1] : undefined;
}

const missingKey = () =>
  unavailable(
    'SECRETS_ENCRYPTION_KEY is not set: webhook and trigger signing secrets cannot be stored. Set it to 32 random bytes, base64 (wrangler secret put SECRETS_ENCRYPTION_KEY)',
    { code: 'secrets_key_missing' },
  );

/** Encrypts `plaintext` for the row named by `context` (e.g. `triggers:trg_…`). */
export async function sealSecret(keyring: SecretKeyring, plaintext: string, context: string): Promise<string> {
  if (!keyring.current) throw missingKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
    keyring.current.key,
    encoder.encode(plaintext),
  );
  return `${PREFIX}:${keyring.current.id}:${b64url(iv)}:${b64url(new Uint8Array(sealed))}`;
}

/** The plaintext of a stored value (a plain legacy value as it is); a configuration error when no key opens it. */
export async function openSecret(keyring: SecretKeyring, stored: string, context: string): Promise<string> {
  if (!isSealed(stored)) return stored;
  const [, id, iv, data] = stored.split(':');
  const key = keyring.byId.get(id ?? '');
  if (!key) {
    throw unavailable(
      `a stored secret was encrypted with key ${id}, which neither SECRETS_ENCRYPTION_KEY nor SECRETS_PREVIOUS_KEYS holds${
        keyring.byId.size === 0 ? ' (no key is set)' : ''
      }`,
      { code: 'secrets_key_unknown' },
    );
  }
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromB64url(iv ?? ''), additionalData: encoder.encode(context) },
      key,
      fromB64url(data ?? ''),
    );
    return decoder.decode(plain);
  } catch {
    throw unavailable(`a stored secret does not decrypt with key ${id}: it was altered or moved from another row`, {
      code: 'secrets_undecryptable',
    });
  }
}

const keyrings = new WeakMap<object, Promise<SecretKeyring>>();

/** The keyring of a parsed configuration, built once per isolate. */
export function secretKeyring(config: {
  SECRETS_ENCRYPTION_KEY?: SecretKeyBytes | undefined;
  SECRETS_PREVIOUS_KEYS: SecretKeyBytes[];
}): Promise<SecretKeyring> {
  let keyring = keyrings.get(config);
  if (!keyring) {
    keyring = buildKeyring(config.SECRETS_ENCRYPTION_KEY, config.SECRETS_PREVIOUS_KEYS);
    keyrings.set(config, keyring);
  }
  return keyring;
}
