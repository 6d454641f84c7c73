import { describe, expect, it } from 'vitest';
import { addMember, call, callJson, createKey, inWorkspace, registerUser } from '../helpers';

/*
 * A key is the act of its owner inside one workspace: it works only while the owner is still a
 * member there, and does no more than the owner's role allows. The platform admin's keys are
 * exempt. Changes take effect at once in the isolate that made them (these tests' own).
 */

async function team() {
  const owner = await registerUser('owner');
  const member = await addMember(owner, 'admin');
  const as = { headers: inWorkspace(owner.workspaceId) };
  return { owner, member, as };
}

describe('API keys end with the person who made them', () => {
  it('a removed member’s keys stop working: listing, minting keys, webhooks, invitations', async () => {
    const { owner, member, as } = await team();
    const key = await createKey(['admin', 'models:read'], { token: member.token, ...as });
    expect((await call('GET', '/v1/models', { token: key.key })).status).toBe(200);
    await callJson('DELETE', `/v1/members/${member.userId}`, 204, { token: owner.token });
    for (const [method, path, body] of [
      ['GET', '/v1/models', undefined],
      ['POST', '/v1/api-keys', { name: 'again', scopes: ['models:read'] }],
      ['POST', '/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['job.succeeded'] }],
      ['POST', '/v1/invitations', { email: member.email, role: 'admin' }],
    ] as const) {
      const res = await callJson(method, path, 401, { token: key.key, body });
      expect(res.error.code).toBe('key_owner_removed');
    }
  });

  it('a demotion cuts what the key may do to what the new role allows', async () => {
    const { owner, member, as } = await team();
    const key = await createKey(['models:read', 'models:write', 'admin'], { token: member.token, ...as });
    expect((await call('POST', '/v1/models', { token: key.key, body: { name: 'demo-a' } })).status).toBe(201);
    await callJson('PATCH', `/v1/members/${member.userId}`, 200, { token: owner.token, body: { role: 'viewer' } });
    expect((await call('GET', '/v1/models', { token: key.key })).status).toBe(200);
    const write = await callJson('POST', '/v1/models', 403, { token: key.key, body: { name: 'demo-b' } });
    expect(write.error.message).toContain("'models:write'");
    const me = await callJson('GET', '/v1/me', 200, { token: key.key });
    expect(me.permissions).toEqual(['models:read']);
    // Promoted again: the key's own scopes come back, never more.
    await callJson('PATCH', `/v1/members/${member.userId}`, 200, { token: owner.token, body: { role: 'owner' } });
    expect((await callJson('GET', '/v1/me', 200, { token: key.key })).permissions.sort()).toEqual([
      'admin',
      'models:read',
      'models:write',
    ]);
  });

  it('a key minted by a key acts for the same person, and ends with them', async () => {
    const { owner, member, as } = await team();
    const parent = await createKey(['admin', 'models:read'], { token: member.token, ...as });
    const child = await createKey(['models:read'], { token: parent.key });
    const listed = await callJson('GET', '/v1/api-keys', 200, { token: owner.token });
    const row = listed.api_keys.find((k: any) => k.id === child.id);
    expect(row).toMatchObject({ created_by: parent.id, owner_id: member.userId });
    await callJson('DELETE', `/v1/members/${member.userId}`, 204, { token: owner.token });
    expect((await callJson('GET', '/v1/models', 401, { token: child.key })).error.code).toBe('key_owner_removed');
  });

  it('owners and admins list every key of the workspace with its owner, and revoke any', async () => {
    const { owner, member, as } = await team();
    const theirs = await createKey(['models:read'], { token: member.token, ...as });
    const listed = await callJson('GET', '/v1/api-keys', 200, { token: owner.token });
    expect(listed.api_keys.find((k: any) => k.id === theirs.id)).toMatchObject({ owner_id: member.userId });
    await callJson('DELETE', `/v1/api-keys/${theirs.id}`, 200, { token: owner.token });
    expect((await callJson('GET', '/v1/models', 401, { token: theirs.key })).error.code).toBe('key_revoked');
    const audit = await callJson('GET', '/v1/audit-log?action=api_key.revoke', 200, { token: owner.token });
    expect(audit.entries[0]).toMatchObject({ actor: { id: owner.userId }, target: `api_key:${theirs.id}` });
  });

  it('the platform admin’s keys are exempt: they keep their scopes', async () => {
    const user = await registerUser();
    const adminKey = await createKey(['models:read'], { headers: inWorkspace(user.workspaceId) });
    const listed = await callJson('GET', '/v1/api-keys', 200, { token: user.token });
    expect(listed.api_keys.find((k: any) => k.id === adminKey.id)).toMatchObject({ owner_id: 'admin' });
    expect((await call('GET', '/v1/models', { token: adminKey.key })).status).toBe(200);
  });
});
