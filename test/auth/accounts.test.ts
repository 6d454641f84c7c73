import { createExecutionContext, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createWorker } from '../../workers/index';
import { PASSWORD, call, callJson, inWorkspace, registerUser, uniqueName } from '../helpers';

describe('register', () => {
  it('creates the user, a personal workspace they own, and signs them in', async () => {
    const email = `${uniqueName('Ada')}@Example.com`;
    const body = await callJson('POST', '/v1/auth/register', 201, {
      token: null,
      body: { email, password: PASSWORD, name: 'Ada' },
    });
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, user_id: expect.stringMatching(/^usr_/) });
    expect(body.workspace_id).toMatch(/^ws_/);
    expect(body.refresh_token).toMatch(/^mfr_[A-Za-z0-9_-]{43}$/);
    const me = await callJson('GET', '/v1/me', 200, { token: body.access_token });
    expect(me).toMatchObject({
      kind: 'user',
      id: body.user_id,
      email: email.toLowerCase(),
      name: 'Ada',
      workspace_id: body.workspace_id,
      role: 'owner',
    });
    expect(me.permissions.sort()).toEqual(['admin', 'jobs', 'models:read', 'models:write', 'predict']);
    // The body limits of this server (vitest.config.ts sets them), for clients to check files before sending.
    expect(me.limits).toEqual({
      max_model_bytes: 256 * 1024,
      max_upload_bytes: 1024 * 1024,
      max_json_body_bytes: 64 * 1024,
      max_predict_body_bytes: 8 * 1024 * 1024,
    });
    const workspace = await callJson('GET', '/v1/workspace', 200, { token: body.access_token });
    expect(workspace).toMatchObject({ id: body.workspace_id, personal: true, role: 'owner' });
  });

  it('stores the password as a salted scrypt hash, never as given', async () => {
    const a = await registerUser();
    const b = await registerUser();
    const rows = await env.DB.prepare('select password_hash from users where id in (?, ?)')
      .bind(a.userId, b.userId)
      .all<{ password_hash: string }>();
    const [ha, hb] = rows.results.map((r) => r.password_hash);
    expect(ha).toMatch(/^scrypt\$ln=14,r=8,p=5\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(ha).not.toContain(PASSWORD);
    expect(ha).not.toBe(hb);
  });

  it('refuses an address that is taken, in any case', async () => {
    const user = await registerUser();
    const err = await callJson('POST', '/v1/auth/register', 409, {
      token: null,
      body: { email: user.email.toUpperCase(), password: PASSWORD },
    });
    expect(err.error.code).toBe('email_taken');
  });

  it('validates the address and the password length', async () => {
    const err = await callJson('POST', '/v1/auth/register', 400, {
      token: null,
      body: { email: 'not-an-address', password: 'short' },
    });
    expect(err.error.message).toContain("request body 'email'");
    expect(err.error.message).toContain('at least 10 characters');
  });

  it('answers 503 when no JWT_SECRET is configured', async () => {
    const app = createWorker();
    const res = await app.fetch(
      new Request('http://modelflare.test/v1/auth/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `${uniqueName()}@example.com`, password: PASSWORD }),
      }),
      { ...env, JWT_SECRET: undefined },
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error.message).toContain('JWT_SECRET');
  });
});

describe('login', () => {
  it('signs in with the right password and opens a new session', async () => {
    const user = await registerUser();
    const body = await callJson('POST', '/v1/auth/login', 200, {
      token: null,
      body: { email: user.email, password: PASSWORD },
    });
    expect(body.user_id).toBe(user.userId);
    expect(body.refresh_token).not.toBe(user.refreshToken);
    expect((await callJson('GET', '/v1/me', 200, { token: body.access_token })).id).toBe(user.userId);
  });

  it('gives one answer for a wrong password and an unknown address', async () => {
    const user = await registerUser();
    const wrong = await callJson('POST', '/v1/auth/login', 401, {
      token: null,
      body: { email: user.email, password: 'not the password' },
    });
    const unknown = await callJson('POST', '/v1/auth/login', 401, {
      token: null,
      body: { email: `nobody-${uniqueName()}@example.com`, password: PASSWORD },
    });
    expect(wrong.error.code).toBe('invalid_credentials');
    expect({ ...wrong.error, request_id: null }).toEqual({ ...unknown.error, request_id: null });
  });
});

describe('refresh tokens', () => {
  const refresh = (token: string, status: number) =>
    callJson('POST', '/v1/auth/refresh', status, { token: null, body: { refresh_token: token } });

  it('rotate on use: a new pair each time, the old refresh token is spent', async () => {
    const user = await registerUser();
    const first = await refresh(user.refreshToken, 200);
    expect(first.refresh_token).not.toBe(user.refreshToken);
    expect((await callJson('GET', '/v1/me', 200, { token: first.access_token })).id).toBe(user.userId);
    const second = await refresh(first.refresh_token, 200);
    expect(second.refresh_token).not.toBe(first.refresh_token);
  });

  it('a reused refresh token ends the whole session', async () => {
    const user = await registerUser();
    const rotated = await refresh(user.refreshToken, 200);
    const reused = await refresh(user.refreshToken, 401);
    expect(reused.error.code).toBe('refresh_token_reused');
    // Everything of that session is dead: the newest refresh token and its access token.
    expect((await refresh(rotated.refresh_token, 401)).error.code).toBe('invalid_refresh_token');
    const me = await callJson('GET', '/v1/me', 401, { token: rotated.access_token });
    expect(me.error.code).toBe('session_ended');
    // Other sessions of the same user are untouched.
    const other = await callJson('POST', '/v1/auth/login', 200, {
      token: null,
      body: { email: user.email, password: PASSWORD },
    });
    await callJson('GET', '/v1/me', 200, { token: other.access_token });
  });

  it('two refreshes racing with one token: exactly one wins', async () => {
    const user = await registerUser();
    const results = await Promise.all(
      [1, 2].map(() =>
        call('POST', '/v1/auth/refresh', {
          token: null,
          body: { refresh_token: user.refreshToken },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('refuses unknown, malformed and expired refresh tokens', async () => {
    expect((await refresh(`mfr_${'A'.repeat(43)}`, 401)).error.code).toBe('invalid_refresh_token');
    expect((await refresh('garbage', 401)).error.code).toBe('invalid_refresh_token');
    const user = await registerUser();
    await env.DB.prepare(
      'update refresh_tokens set expires_at = 1 where session_id in (select id from sessions where user_id = ?)',
    )
      .bind(user.userId)
      .run();
    expect((await refresh(user.refreshToken, 401)).error.code).toBe('refresh_token_expired');
  });

  it('are stored only as hashes', async () => {
    const user = await registerUser();
    const dump = await env.DB.prepare(
      'select * from refresh_tokens where session_id in (select id from sessions where user_id = ?)',
    )
      .bind(user.userId)
      .all();
    expect(dump.results).toHaveLength(1);
    expect(JSON.stringify(dump.results)).not.toContain(user.refreshToken.slice(4));
  });

  it('are not credentials for the API', async () => {
    const user = await registerUser();
    expect((await callJson('GET', '/v1/me', 401, { token: user.refreshToken })).error.message).toBe(
      'invalid credential',
    );
  });
});

describe('logout', () => {
  it('ends this session: its access token and refresh token stop working at once', async () => {
    const user = await registerUser();
    const other = await callJson('POST', '/v1/auth/login', 200, {
      token: null,
      body: { email: user.email, password: PASSWORD },
    });
    await callJson('POST', '/v1/auth/logout', 204, { token: user.token });
    expect((await callJson('GET', '/v1/me', 401, { token: user.token })).error.code).toBe('session_ended');
    await callJson('POST', '/v1/auth/refresh', 401, { token: null, body: { refresh_token: user.refreshToken } });
    await callJson('GET', '/v1/me', 200, { token: other.access_token });
  });

  it('with all: true ends every session of the user', async () => {
    const user = await registerUser();
    const other = await callJson('POST', '/v1/auth/login', 200, {
      token: null,
      body: { email: user.email, password: PASSWORD },
    });
    await callJson('POST', '/v1/auth/logout', 204, { token: user.token, body: { all: true } });
    await callJson('GET', '/v1/me', 401, { token: other.access_token });
    await callJson('POST', '/v1/auth/refresh', 401, { token: null, body: { refresh_token: other.refresh_token } });
  });

  it('is for user sessions only', async () => {
    expect((await callJson('POST', '/v1/auth/logout', 403)).error.code).toBe('user_only');
    await callJson('POST', '/v1/auth/logout', 401, { token: null });
  });
});

describe('me', () => {
  it('describes the admin and names the workspace it acts in', async () => {
    const me = await callJson('GET', '/v1/me', 200);
    expect(me).toMatchObject({ kind: 'admin', id: 'admin', workspace_id: 'ws_default', role: null, email: null });
    const user = await registerUser();
    const there = await callJson('GET', '/v1/me', 200, { headers: inWorkspace(user.workspaceId) });
    expect(there.workspace_id).toBe(user.workspaceId);
  });
});
