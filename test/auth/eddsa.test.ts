import { createExecutionContext, env } from 'cloudflare:test';
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { configFrom } from '../../workers/core/config';
import type { Env } from '../../workers/platform/env';
import { createWorker } from '../../workers/index';
import { PASSWORD, uniqueName } from '../helpers';

/*
 * Access tokens signed with an Ed25519 key pair (JWT_PRIVATE_KEY) instead of JWT_SECRET: the
 * public half is published so other services verify tokens without a secret, and a rotated-out
 * pair keeps verifying through JWT_PREVIOUS_PUBLIC_KEYS.
 */

async function keyPair(): Promise<JWK> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JWK;
}

/** The app as a deployment with these variables would run it (JWT_SECRET unset unless given). */
function appWith(vars: Record<string, string | undefined>) {
  const app = createWorker();
  const testEnv = { ...env, JWT_SECRET: undefined, ...vars };
  return async (method: string, path: string, init: { token?: string; body?: unknown } = {}) => {
    const headers = new Headers({ 'content-type': 'application/json' });
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    const res = await app.fetch(
      new Request(`http://modelflare.test${path}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
      testEnv,
      createExecutionContext(),
    );
    return { status: res.status, body: (await res.json()) as any };
  };
}

describe('EdDSA access tokens', () => {
  it('are signed with JWT_PRIVATE_KEY, verify with the published key, and work as credentials', async () => {
    const key = await keyPair();
    const send = appWith({ JWT_PRIVATE_KEY: JSON.stringify(key) });
    const registered = await send('POST', '/v1/auth/register', {
      body: { email: `${uniqueName()}@example.com`, password: PASSWORD },
    });
    expect(registered.status).toBe(201);
    const token = registered.body.access_token as string;
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('EdDSA');

    const jwks = await send('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: key.x, kid: header.kid, alg: 'EdDSA', use: 'sig' },
    ]);
    expect(JSON.stringify(jwks.body)).not.toContain(key.d!);
    // What another service would do: verify with the published key set alone.
    const verified = await jwtVerify(token, createLocalJWKSet(jwks.body), { issuer: 'modelflare' });
    expect(verified.payload.sub).toBe(registered.body.user_id);

    const me = await send('GET', '/v1/me', { token });
    expect(me).toMatchObject({ status: 200, body: { kind: 'user', id: registered.body.user_id } });
  });

  it('a token signed by another key pair, or with the HS256 secret, is refused', async () => {
    const key = await keyPair();
    const send = appWith({ JWT_PRIVATE_KEY: JSON.stringify(key) });
    const registered = await send('POST', '/v1/auth/register', {
      body: { email: `${uniqueName()}@example.com`, password: PASSWORD },
    });
    const { kid } = decodeProtectedHeader(registered.body.access_token);
    const claims = { sid: 'ses_x' };
    const sign = (alg: string, secret: CryptoKey | Uint8Array) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg, typ: 'JWT', kid })
        .setSubject(registered.body.user_id)
        .setIssuer('modelflare')
        .setAudience('modelflare-api')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(secret);
    const foreign = (await importJWK(await keyPair(), 'EdDSA')) as CryptoKey;
    for (const token of [
      await sign('EdDSA', foreign),
      await sign('HS256', new TextEncoder().encode(env.JWT_SECRET!)),
    ]) {
      expect(await send('GET', '/v1/me', { token })).toMatchObject({
        status: 401,
        body: { error: { code: 'invalid_token' } },
      });
    }
  });

  it('keep verifying after rotation through JWT_PREVIOUS_PUBLIC_KEYS, and only then', async () => {
    const old = await keyPair();
    const before = appWith({ JWT_PRIVATE_KEY: JSON.stringify(old) });
    const registered = await before('POST', '/v1/auth/register', {
      body: { email: `${uniqueName()}@example.com`, password: PASSWORD },
    });
    const token = registered.body.access_token as string;
    const current = JSON.stringify(await keyPair());
    const { d: _private, ...oldPublic } = old;
    const rotated = appWith({ JWT_PRIVATE_KEY: current, JWT_PREVIOUS_PUBLIC_KEYS: JSON.stringify([oldPublic]) });
    expect((await rotated('GET', '/v1/me', { token })).status).toBe(200);
    expect((await rotated('GET', '/.well-known/jwks.json')).body.keys).toHaveLength(2);
    const forgotten = appWith({ JWT_PRIVATE_KEY: current });
    expect((await forgotten('GET', '/v1/me', { token })).status).toBe(401);
  });

  it('a key that is not an Ed25519 JWK, or both signing keys at once, is a configuration error naming the variable', async () => {
    const configWith = (vars: Record<string, string | undefined>) => () =>
      configFrom({ ...env, JWT_SECRET: undefined, ...vars } as Env);
    expect(configWith({ JWT_PRIVATE_KEY: 'not json' })).toThrow(/JWT_PRIVATE_KEY .* must be JSON/);
    expect(configWith({ JWT_PRIVATE_KEY: JSON.stringify({ kty: 'RSA', n: 'x', e: 'AQAB' }) })).toThrow(
      /JWT_PRIVATE_KEY/,
    );
    expect(configWith({ JWT_PREVIOUS_PUBLIC_KEYS: '{"kty":"OKP"}' })).toThrow(/JWT_PREVIOUS_PUBLIC_KEYS/);
    const both = { JWT_PRIVATE_KEY: JSON.stringify(await keyPair()), JWT_SECRET: env.JWT_SECRET };
    expect(configWith(both)).toThrow(/not both/);
  });

  it('the key set is empty when tokens are signed with JWT_SECRET', async () => {
    const send = appWith({ JWT_SECRET: env.JWT_SECRET });
    expect(await send('GET', '/.well-known/jwks.json')).toEqual({ status: 200, body: { keys: [] } });
  });
});
