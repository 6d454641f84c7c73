import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, callJson, createKey, inWorkspace, registerUser, uniqueName } from '../helpers';

/** Polls until a background write (ctx.waitUntil) has landed; no timing is asserted. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 50; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached');
}

afterEach(() => vi.restoreAllMocks());

describe('API keys', () => {
  it('are created with a secret shown once, a visible prefix and scopes', async () => {
    const owner = await registerUser();
    const created = await callJson('POST', '/v1/api-keys', 201, {
      token: owner.token,
      body: { name: 'ci', scopes: ['models:read', 'predict', 'predict'] },
    });
    expect(created.key).toMatch(/^mfk_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({
      id: expect.stringMatching(/^key_/),
      name: 'ci',
      prefix: created.key.slice(0, 12),
      scopes: ['models:read', 'predict'],
      created_by: owner.userId,
      expires_at: null,
      revoked_at: null,
      last_used_at: null,
    });
    const listed = await callJson('GET', '/v1/api-keys', 200, { token: owner.token });
    expect(listed.api_keys.map((k: any) => k.id)).toEqual([created.id]);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    const one = await callJson('GET', `/v1/api-keys/${created.id}`, 200, { token: owner.token });
    expect(one.key).toBeUndefined();
    const row = await env.DB.prepare('select * from api_keys where id = ?').bind(created.id).first();
    expect(JSON.stringify(row)).not.toContain(created.key);
  });

  it('act in their workspace with their scopes as permissions', async () => {
    const owner = await registerUser();
    const name = uniqueName();
    await callJson('POST', '/v1/models', 201, { token: owner.token, body: { name } });
    const { key } = await createKey(['models:read'], { token: owner.token });
    const me = await callJson('GET', '/v1/me', 200, { token: key });
    expect(me).toMatchObject({
      kind: 'api_key',
      workspace_id: owner.workspaceId,
      role: null,
      permissions: ['models:read'],
    });
    await callJson('GET', `/v1/models/${name}`, 200, { token: key });
    await callJson('GET', `/v1/models/${name}`, 200, { token: key, headers: inWorkspace(owner.workspaceId) });
  });

  it('a missing scope is 403, naming the permission', async () => {
    const owner = await registerUser();
    const { key } = await createKey(['models:read'], { token: owner.token });
    const err = await callJson('POST', '/v1/models', 403, { token: key, body: { name: uniqueName() } });
    expect(err.error).toMatchObject({ code: 'permission_denied', message: expect.stringContaining("'models:write'") });
    await callJson('GET', '/v1/api-keys', 403, { token: key });
  });

  it('cannot act in another workspace: the header is refused as if the workspace did not exist', async () => {
    const owner = await registerUser();
    const { key } = await createKey(['models:read'], { token: owner.token });
    const err = await callJson('GET', '/v1/models', 404, { token: key, headers: inWorkspace('ws_default') });
    expect(err.error.code).toBe('workspace_not_found');
  });

  it('revoked keys answer 401 at once; revoking again is harmless', async () => {
    const owner = await registerUser();
    const { id, key } = await createKey(['models:read'], { token: owner.token });
    await callJson('GET', '/v1/models', 200, { token: key });
    const revoked = await callJson('DELETE', `/v1/api-keys/${id}`, 200, { token: owner.token });
    expect(revoked.revoked_at).not.toBeNull();
    const err = await callJson('GET', '/v1/models', 401, { token: key });
    expect(err.error.code).toBe('key_revoked');
    const again = await callJson('DELETE', `/v1/api-keys/${id}`, 200, { token: owner.token });
    expect(again.revoked_at).toBe(revoked.revoked_at);
  });

  it('expire at expires_at (401), even while this isolate holds them, and expires_at must be in the future', async () => {
    const owner = await registerUser();
    const expiresAt = Date.now() + 2_000;
    const { key } = await createKey(['models:read'], {
      token: owner.token,
      expires_at: new Date(expiresAt).toISOString(),
    });
    await callJson('GET', '/v1/models', 200, { token: key });
    vi.spyOn(Date, 'now').mockReturnValue(expiresAt);
    expect((await callJson('GET', '/v1/models', 401, { token: key })).error.code).toBe('key_expired');
    vi.restoreAllMocks();
    const past = await callJson('POST', '/v1/api-keys', 400, {
      token: owner.token,
      body: { name: 'x', scopes: ['predict'], expires_at: '2020-01-01T00:00:00Z' },
    });
    expect(past.error.message).toContain('expires_at');
  });

  it('an unknown key of the right shape is an invalid credential', async () => {
    expect((await callJson('GET', '/v1/models', 401, { token: `mfk_${'x'.repeat(43)}` })).error.message).toBe(
      'invalid credential',
    );
    await callJson('GET', '/v1/models', 401, { token: 'mfk_short' });
  });

  it('record when they were last used, after the response and at most once a minute', async () => {
    const owner = await registerUser();
    const { id, key } = await createKey(['models:read'], { token: owner.token });
    await callJson('GET', '/v1/models', 200, { token: key });
    const read = () => callJson('GET', `/v1/api-keys/${id}`, 200, { token: owner.token });
    const first = await eventually(read, (k) => k.last_used_at !== null);
    await callJson('GET', '/v1/models', 200, { token: key });
    await new Promise((r) => setTimeout(r, 50));
    expect((await read()).last_used_at).toBe(first.last_used_at);
    // Once the minute has passed, the next use is recorded.
    const later = Date.parse(first.last_used_at) + 61_000;
    vi.spyOn(Date, 'now').mockReturnValue(later);
    await callJson('GET', '/v1/models', 200, { token: key });
    await eventually(read, (k) => Date.parse(k.last_used_at) === later);
  });

  it('revoked elsewhere: refused once this isolate’s copy has refreshed, and never past the bound', async () => {
    const owner = await registerUser();
    const { id, key } = await createKey(['models:read'], { token: owner.token });
    await callJson('GET', '/v1/models', 200, { token: key });
    // Another isolate revoked it: this one has not heard and still trusts what D1 said.
    await env.DB.prepare('update api_keys set revoked_at = ? where id = ?').bind(Date.now(), id).run();
    await callJson('GET', '/v1/models', 200, { token: key });
    // Older than the refresh interval: the copy still answers, and a refresh starts behind it…
    const refreshMs = Number(env.CREDENTIAL_CACHE_TTL_SECONDS ?? 5) * 1000;
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + refreshMs + 1);
    await callJson('GET', '/v1/models', 200, { token: key });
    // …which learns of the revocation: refused from then on.
    await eventually(
      () => call('GET', '/v1/models', { token: key }),
      (res) => res.status === 401,
    );
    expect((await callJson('GET', '/v1/models', 401, { token: key })).error.code).toBe('key_revoked');

    // The bound: a copy read longer ago than CACHE_STALE_LIMIT_SECONDS is never served.
    const other = await createKey(['models:read'], { token: owner.token });
    await callJson('GET', '/v1/models', 200, { token: other.key });
    await env.DB.prepare('update api_keys set revoked_at = ? where id = ?').bind(Date.now(), other.id).run();
    const boundMs = Number(env.CACHE_STALE_LIMIT_SECONDS ?? 10) * 1000;
    clock.mockReturnValue(Date.now() + boundMs + 1);
    expect((await callJson('GET', '/v1/models', 401, { token: other.key })).error.code).toBe('key_revoked');
  });

  it('cannot carry scopes their creator lacks', async () => {
    const owner = await registerUser();
    const { key } = await createKey(['admin', 'models:read'], { token: owner.token });
    const err = await callJson('POST', '/v1/api-keys', 403, {
      token: key,
      body: { name: 'wider', scopes: ['models:write'] },
    });
    expect(err.error.code).toBe('scope_not_held');
    await createKey(['models:read'], { token: key });
  });

  it('validate names, scopes and ids', async () => {
    const owner = await registerUser();
    const bad = await callJson('POST', '/v1/api-keys', 400, {
      token: owner.token,
      body: { name: '', scopes: ['everything'] },
    });
    expect(bad.error.message).toContain("request body 'name'");
    expect(bad.error.message).toContain("request body 'scopes[0]'");
    await callJson('POST', '/v1/api-keys', 400, { token: owner.token, body: { name: 'x', scopes: [] } });
    await callJson('GET', '/v1/api-keys/not-an-id', 400, { token: owner.token });
    const missing = await callJson('GET', `/v1/api-keys/key_${'0'.repeat(32)}`, 404, { token: owner.token });
    expect(missing.error.code).toBe('api_key_not_found');
  });

  it('list newest first, a page at a time', async () => {
    const owner = await registerUser();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createKey(['predict'], { token: owner.token })).id);
    const first = await callJson('GET', '/v1/api-keys?limit=2', 200, { token: owner.token });
    expect(first.api_keys).toHaveLength(2);
    const second = await callJson('GET', `/v1/api-keys?limit=2&cursor=${first.next_cursor}`, 200, {
      token: owner.token,
    });
    expect(second.next_cursor).toBeNull();
    expect([...first.api_keys, ...second.api_keys].map((k: any) => k.id).sort()).toEqual(ids.sort());
    await callJson('GET', '/v1/api-keys?cursor=bogus', 400, { token: owner.token });
    await call('GET', `/v1/api-keys?cursor=${btoa('"123"')}`, { token: owner.token }).then((r) =>
      expect(r.status).toBe(400),
    );
  });
});
