import { env } from 'cloudflare:test';
import { SignJWT, base64url } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { call, callJson, registerUser } from '../helpers';

/*
 * Every way an access token can be wrong answers 401 in the envelope, with WWW-Authenticate.
 * Tokens here are made with jose and the test secrets, changing one thing at a time.
 */

const encoder = new TextEncoder();
const SECRET = encoder.encode(env.JWT_SECRET!);

async function kidOf(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`modelflare-jwt-kid:${secret}`));
  return base64url.encode(new Uint8Array(digest).slice(0, 9));
}

interface Forge {
  secret?: Uint8Array;
  kid?: string | null;
  alg?: string;
  iss?: string;
  aud?: string;
  exp?: number | string;
  iat?: number;
  sid?: string | null;
  sub?: string;
}

async function forge(user: { userId: string; sessionId: string }, f: Forge = {}): Promise<string> {
  const kid = f.kid === undefined ? await kidOf(env.JWT_SECRET!) : f.kid;
  const jwt = new SignJWT(f.sid === null ? {} : { sid: f.sid ?? user.sessionId })
    .setProtectedHeader({ alg: f.alg ?? 'HS256', typ: 'JWT', ...(kid === null ? {} : { kid }) })
    .setSubject(f.sub ?? user.userId)
    .setIssuer(f.iss ?? 'modelflare')
    .setAudience(f.aud ?? 'modelflare-api')
    .setIssuedAt(f.iat)
    .setExpirationTime(f.exp ?? '10m');
  return jwt.sign(f.secret ?? SECRET);
}

/** The user's real session id, read from the access token the server issued. */
function sessionOf(token: string): string {
  return JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))).sid;
}

async function refused(token: string, code: string) {
  const res = await call('GET', '/v1/models', { token });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toContain('Bearer');
  expect((await res.json<any>()).error.code).toBe(code);
}

describe('access tokens', () => {
  it('the issued token is an HS256 JWT with iss, aud, kid and at most an hour of life', async () => {
    const user = await registerUser();
    const [header, payload] = user.token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(new TextDecoder().decode(base64url.decode(p))));
    expect(header).toMatchObject({ alg: 'HS256', typ: 'JWT', kid: await kidOf(env.JWT_SECRET!) });
    expect(payload).toMatchObject({ iss: 'modelflare', aud: 'modelflare-api', sub: user.userId });
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(3600);
  });

  it('a token forged with the right key and claims is accepted (so the refusals below are meaningful)', async () => {
    const user = await registerUser();
    const token = await forge({ userId: user.userId, sessionId: sessionOf(user.token) });
    expect((await callJson('GET', '/v1/me', 200, { token })).id).toBe(user.userId);
  });

  it('tokens signed with a previous secret still verify during rotation', async () => {
    const user = await registerUser();
    const previous = env.JWT_PREVIOUS_SECRETS!;
    const token = await forge(
      { userId: user.userId, sessionId: sessionOf(user.token) },
      { secret: encoder.encode(previous), kid: await kidOf(previous) },
    );
    await callJson('GET', '/v1/me', 200, { token });
  });

  describe('refused with 401', () => {
    let user: { userId: string; sessionId: string };
    beforeEach(async () => {
      const registered = await registerUser();
      user = { userId: registered.userId, sessionId: sessionOf(registered.token) };
    });

    it('missing, malformed header, and garbage', async () => {
      const missing = await call('GET', '/v1/models', { token: null });
      expect(missing.status).toBe(401);
      expect((await missing.json<any>()).error.message).toContain('missing credential');
      const basic = await call('GET', '/v1/models', { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      expect(basic.status).toBe(401);
      const twoParts = await call('GET', '/v1/models', { token: null, headers: { authorization: 'Bearer a b' } });
      expect(twoParts.status).toBe(401);
      await refused('not-a-token', 'unauthenticated');
      await refused('a.b.c', 'invalid_token');
    });

    it('expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      await refused(await forge(user, { iat: now - 600, exp: now - 60 }), 'token_expired');
    });

    it('issued more than an hour ago even if exp says otherwise', async () => {
      const now = Math.floor(Date.now() / 1000);
      await refused(await forge(user, { iat: now - 7200, exp: now + 600 }), 'token_expired');
    });

    it('alg: none', async () => {
      const part = (o: object) => base64url.encode(JSON.stringify(o));
      const now = Math.floor(Date.now() / 1000);
      const token = `${part({ alg: 'none', typ: 'JWT', kid: await kidOf(env.JWT_SECRET!) })}.${part({
        sub: user.userId,
        sid: user.sessionId,
        iss: 'modelflare',
        aud: 'modelflare-api',
        iat: now,
        exp: now + 600,
      })}.`;
      await refused(token, 'invalid_token');
    });

    it('another algorithm, even with the right secret', async () => {
      await refused(await forge(user, { alg: 'HS512' }), 'invalid_token');
    });

    it('signed with a foreign key, under our kid or none', async () => {
      const foreign = encoder.encode('someone-elses-secret-0123456789abcdef0123');
      await refused(await forge(user, { secret: foreign }), 'invalid_token');
      await refused(await forge(user, { secret: foreign, kid: null }), 'invalid_token');
      await refused(await forge(user, { secret: foreign, kid: 'made-up' }), 'invalid_token');
    });

    it('wrong issuer, wrong audience', async () => {
      await refused(await forge(user, { iss: 'someone-else' }), 'invalid_token');
      await refused(await forge(user, { aud: 'another-api' }), 'invalid_token');
    });

    it('without a session id, or naming a session that is not the user’s', async () => {
      await refused(await forge(user, { sid: null }), 'invalid_token');
      const other = await registerUser();
      await refused(await forge(user, { sid: sessionOf(other.token) }), 'session_ended');
    });
  });
});
