import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { login } from '../../workers/auth/accounts';
import {
  SCRYPT_COST,
  UNUSABLE_PASSWORD_HASH,
  hashPassword,
  requirePasswordPolicy,
  checkPassword,
} from '../../workers/auth/passwords';
import { base64url } from '../../workers/auth/secrets';
import { users } from '../../workers/storage/schema';
import { depsFor, PASSWORD, registerUser } from '../helpers';

/** A hash as the platform stored them before scrypt: PBKDF2-SHA256, 100,000 iterations. */
async function pbkdf2Hash(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 100_000 }, key, 256);
  return `pbkdf2-sha256$100000$${base64url(salt)}$${base64url(new Uint8Array(bits))}`;
}

describe('password hashes', () => {
  it('are scrypt (N = 2^14, r = 8, p = 5), salted, and verify only the right password', async () => {
    expect(SCRYPT_COST).toEqual({ N: 16384, r: 8, p: 5 });
    const stored = await hashPassword(PASSWORD);
    expect(stored).toMatch(/^scrypt\$ln=14,r=8,p=5\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await hashPassword(PASSWORD)).not.toBe(stored);
    expect(await checkPassword(PASSWORD, stored)).toEqual({ ok: true, needsRehash: false });
    expect(await checkPassword(`${PASSWORD}!`, stored)).toEqual({ ok: false, needsRehash: false });
    expect(await checkPassword('', stored)).toEqual({ ok: false, needsRehash: false });
  });

  it('keep verifying PBKDF2 hashes and older scrypt costs, asking for a re-hash', async () => {
    const old = await pbkdf2Hash(PASSWORD);
    expect(await checkPassword(PASSWORD, old)).toEqual({ ok: true, needsRehash: true });
    expect(await checkPassword('wrong password', old)).toEqual({ ok: false, needsRehash: false });
    const cheaper = await hashPassword(PASSWORD, { N: 2 ** 12, r: 8, p: 1 });
    expect(cheaper).toMatch(/^scrypt\$ln=12,r=8,p=1\$/);
    expect(await checkPassword(PASSWORD, cheaper)).toEqual({ ok: true, needsRehash: true });
  });

  it('never match a malformed value or a cost out of bounds (a stored value must not become a DoS)', async () => {
    const good = await hashPassword(PASSWORD);
    const [, , salt, hash] = good.split('$');
    for (const stored of [
      '',
      'plaintext',
      `scrypt$ln=30,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=14,r=99,p=1$${salt}$${hash}`,
      `scrypt$ln=14,r=8,p=0$${salt}$${hash}`,
      `scrypt$N=16384$${salt}$${hash}`,
      `pbkdf2-sha256$100000000$${salt}$${hash}`,
      `pbkdf2-sha256$abc$${salt}$${hash}`,
      `argon2id$v=19$${salt}$${hash}`,
    ])
      expect(await checkPassword(PASSWORD, stored), stored).toEqual({ ok: false, needsRehash: false });
  });

  it('the hash an unknown address is checked against costs the same scrypt and matches nothing', async () => {
    expect(UNUSABLE_PASSWORD_HASH.startsWith('scrypt$ln=14,r=8,p=5$')).toBe(true);
    expect((await checkPassword(PASSWORD, UNUSABLE_PASSWORD_HASH)).ok).toBe(false);
  });

  it('a policy of 10 to 256 characters', () => {
    expect(() => requirePasswordPolicy('short')).toThrow(/10 to 256 characters/);
    expect(() => requirePasswordPolicy('x'.repeat(257))).toThrow(/10 to 256/);
    expect(() => requirePasswordPolicy(PASSWORD)).not.toThrow();
  });
});

describe('login upgrades an older hash', () => {
  it('re-hashes a PBKDF2 password with scrypt at the next successful login, and only then', async () => {
    const user = await registerUser('upgrade');
    const deps = depsFor(env);
    const old = await pbkdf2Hash(PASSWORD);
    await deps.db.update(users).set({ passwordHash: old }).where(eq(users.id, user.userId));
    const stored = async () =>
      (await deps.db.query.users.findFirst({ where: eq(users.id, user.userId) }))!.passwordHash;

    await expect(login(deps, { email: user.email, password: 'not the password' })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(await stored()).toBe(old);

    await login(deps, { email: user.email, password: PASSWORD });
    const upgraded = await stored();
    expect(upgraded).toMatch(/^scrypt\$ln=14,r=8,p=5\$/);
    expect(await checkPassword(PASSWORD, upgraded)).toEqual({ ok: true, needsRehash: false });
    await login(deps, { email: user.email, password: PASSWORD });
    expect(await stored()).toBe(upgraded);
  });
});
