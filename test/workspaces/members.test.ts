import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { addMember, call, callJson, inWorkspace, registerUser, uniqueName } from '../helpers';

describe('workspaces', () => {
  it('a user lists their workspaces and acts in one with the Modelflare-Workspace header', async () => {
    const owner = await registerUser();
    const team = await callJson('POST', '/v1/workspaces', 201, { token: owner.token, body: { name: 'team' } });
    expect(team).toMatchObject({ name: 'team', personal: false, role: 'owner' });
    const list = await callJson('GET', '/v1/workspaces', 200, { token: owner.token });
    expect(list.workspaces.map((w: any) => w.id).sort()).toEqual([owner.workspaceId, team.id].sort());
    const name = uniqueName();
    await callJson('POST', '/v1/models', 201, { token: owner.token, headers: inWorkspace(team.id), body: { name } });
    await callJson('GET', `/v1/models/${name}`, 200, { token: owner.token, headers: inWorkspace(team.id) });
    // Without the header the user acts in their personal workspace, where the model is not.
    await callJson('GET', `/v1/models/${name}`, 404, { token: owner.token });
  });

  it('a malformed workspace header is 400, an unknown one 404', async () => {
    const user = await registerUser();
    const bad = await callJson('GET', '/v1/models', 400, { token: user.token, headers: inWorkspace('nope') });
    expect(bad.error.message).toContain('Modelflare-Workspace');
    const unknown = await callJson('GET', '/v1/models', 404, {
      token: user.token,
      headers: inWorkspace('ws_doesnotexist'),
    });
    expect(unknown.error.code).toBe('workspace_not_found');
    await callJson('GET', '/v1/models', 404, { headers: inWorkspace('ws_doesnotexist') });
  });

  it('the admin sees every workspace and acts in any of them', async () => {
    const user = await registerUser();
    const name = uniqueName();
    await callJson('POST', '/v1/models', 201, { token: user.token, body: { name } });
    await callJson('GET', `/v1/models/${name}`, 200, { headers: inWorkspace(user.workspaceId) });
    let cursor: string | null = null;
    const seen: string[] = [];
    do {
      const page: any = await callJson('GET', `/v1/workspaces?limit=100${cursor ? `&cursor=${cursor}` : ''}`, 200);
      seen.push(...page.workspaces.map((w: any) => w.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toContain(user.workspaceId);
    expect(seen).toContain('ws_default');
    // A workspace the admin creates has no members until someone is invited.
    const made = await callJson('POST', '/v1/workspaces', 201, { body: { name: 'ops' } });
    expect(made).toMatchObject({ name: 'ops', role: null, personal: false });
    expect((await callJson('GET', '/v1/members', 200, { headers: inWorkspace(made.id) })).members).toEqual([]);
  });

  it('an API key lists only its own workspace and cannot create one', async () => {
    const owner = await registerUser();
    const key = await callJson('POST', '/v1/api-keys', 201, {
      token: owner.token,
      body: { name: 'k', scopes: ['models:read'] },
    });
    const list = await callJson('GET', '/v1/workspaces', 200, { token: key.key });
    expect(list.workspaces.map((w: any) => w.id)).toEqual([owner.workspaceId]);
    await callJson('POST', '/v1/workspaces', 403, { token: key.key, body: { name: 'x' } });
  });

  it('workspace admins rename; only the platform admin sets rate limits', async () => {
    const owner = await registerUser();
    const renamed = await callJson('PATCH', '/v1/workspace', 200, { token: owner.token, body: { name: 'ours' } });
    expect(renamed.name).toBe('ours');
    const err = await callJson('PATCH', '/v1/workspace', 403, {
      token: owner.token,
      body: { rate_limits: { prediction: 1_000_000 } },
    });
    expect(err.error.code).toBe('admin_only');
    const limited = await callJson('PATCH', '/v1/workspace', 200, {
      headers: inWorkspace(owner.workspaceId),
      body: { rate_limits: { prediction: 50, window_seconds: 10 } },
    });
    expect(limited.rate_limits).toEqual({ prediction: 50, management: null, window_seconds: 10 });
    const reset = await callJson('PATCH', '/v1/workspace', 200, {
      headers: inWorkspace(owner.workspaceId),
      body: { rate_limits: { prediction: null } },
    });
    expect(reset.rate_limits.prediction).toBeNull();
    await callJson('PATCH', '/v1/workspace', 400, {
      headers: inWorkspace(owner.workspaceId),
      body: { rate_limits: { prediction: 0 } },
    });
  });
});

describe('invitations', () => {
  it('invite, list, accept: the invitee becomes a member with the role', async () => {
    const owner = await registerUser();
    const invitee = await registerUser();
    const created = await callJson('POST', '/v1/invitations', 201, {
      token: owner.token,
      body: { email: invitee.email.toUpperCase(), role: 'viewer' },
    });
    expect(created).toMatchObject({
      email: invitee.email,
      role: 'viewer',
      status: 'pending',
      invited_by: owner.userId,
    });
    expect(created.token).toMatch(/^mfi_/);
    const listed = await callJson('GET', '/v1/invitations', 200, { token: owner.token });
    expect(listed.invitations).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    const accepted = await callJson('POST', '/v1/invitations/accept', 200, {
      token: invitee.token,
      body: { token: created.token },
    });
    expect(accepted).toMatchObject({ status: 'accepted', accepted_by: invitee.userId });
    const members = await callJson('GET', '/v1/members', 200, { token: owner.token });
    expect(members.members).toContainEqual(expect.objectContaining({ user_id: invitee.userId, role: 'viewer' }));
    const list = await callJson('GET', '/v1/workspaces', 200, { token: invitee.token });
    expect(list.workspaces).toContainEqual(expect.objectContaining({ id: owner.workspaceId, role: 'viewer' }));
  });

  it('only the invited address can accept, and only once', async () => {
    const owner = await registerUser();
    const invitee = await registerUser();
    const stranger = await registerUser();
    const { token } = await callJson('POST', '/v1/invitations', 201, {
      token: owner.token,
      body: { email: invitee.email },
    });
    const mismatch = await callJson('POST', '/v1/invitations/accept', 403, { token: stranger.token, body: { token } });
    expect(mismatch.error.code).toBe('invitation_email_mismatch');
    await callJson('POST', '/v1/invitations/accept', 200, { token: invitee.token, body: { token } });
    const again = await callJson('POST', '/v1/invitations/accept', 404, { token: invitee.token, body: { token } });
    expect(again.error.code).toBe('invitation_not_found');
  });

  it('revoked, expired and made-up tokens are refused with 404', async () => {
    const owner = await registerUser();
    const invitee = await registerUser();
    const first = await callJson('POST', '/v1/invitations', 201, {
      token: owner.token,
      body: { email: invitee.email },
    });
    const revoked = await callJson('DELETE', `/v1/invitations/${first.id}`, 200, { token: owner.token });
    expect(revoked.status).toBe('revoked');
    await callJson('POST', '/v1/invitations/accept', 404, { token: invitee.token, body: { token: first.token } });
    const second = await callJson('POST', '/v1/invitations', 201, {
      token: owner.token,
      body: { email: invitee.email },
    });
    await env.DB.prepare('update invitations set expires_at = 1 where id = ?').bind(second.id).run();
    await callJson('POST', '/v1/invitations/accept', 404, { token: invitee.token, body: { token: second.token } });
    const listed = await callJson('GET', '/v1/invitations', 200, { token: owner.token });
    expect(listed.invitations.map((i: any) => i.status).sort()).toEqual(['expired', 'revoked']);
    await callJson('POST', '/v1/invitations/accept', 404, { token: invitee.token, body: { token: 'mfi_nonsense' } });
    await callJson('POST', '/v1/invitations/accept', 404, {
      token: invitee.token,
      body: { token: `mfi_${'A'.repeat(43)}` },
    });
  });

  it('refuses duplicates: a pending invitation, an existing member', async () => {
    const owner = await registerUser();
    const member = await addMember(owner, 'member');
    const dup = await callJson('POST', '/v1/invitations', 409, { token: owner.token, body: { email: member.email } });
    expect(dup.error.code).toBe('already_member');
    const email = `${uniqueName()}@example.com`;
    await callJson('POST', '/v1/invitations', 201, { token: owner.token, body: { email } });
    const pending = await callJson('POST', '/v1/invitations', 409, { token: owner.token, body: { email } });
    expect(pending.error.code).toBe('invitation_pending');
  });

  it('an accepted invitation cannot be revoked; revoking twice is harmless', async () => {
    const owner = await registerUser();
    const invitee = await registerUser();
    const inv = await callJson('POST', '/v1/invitations', 201, { token: owner.token, body: { email: invitee.email } });
    await callJson('POST', '/v1/invitations/accept', 200, { token: invitee.token, body: { token: inv.token } });
    const err = await callJson('DELETE', `/v1/invitations/${inv.id}`, 409, { token: owner.token });
    expect(err.error.code).toBe('invitation_accepted');
    const other = await callJson('POST', '/v1/invitations', 201, {
      token: owner.token,
      body: { email: `${uniqueName()}@example.com` },
    });
    const once = await callJson('DELETE', `/v1/invitations/${other.id}`, 200, { token: owner.token });
    const twice = await callJson('DELETE', `/v1/invitations/${other.id}`, 200, { token: owner.token });
    expect(twice.revoked_at).toBe(once.revoked_at);
  });

  it('only users accept invitations; only owners invite owners', async () => {
    const owner = await registerUser();
    const admin = await addMember(owner, 'admin');
    const asAdmin = { token: admin.token, headers: inWorkspace(owner.workspaceId) };
    const err = await callJson('POST', '/v1/invitations', 403, {
      ...asAdmin,
      body: { email: `${uniqueName()}@example.com`, role: 'owner' },
    });
    expect(err.error.code).toBe('owner_only');
    await callJson('POST', '/v1/invitations', 201, { ...asAdmin, body: { email: `${uniqueName()}@example.com` } });
    const notUser = await callJson('POST', '/v1/invitations/accept', 403, { body: { token: `mfi_${'A'.repeat(43)}` } });
    expect(notUser.error.code).toBe('user_only');
  });
});

describe('members', () => {
  it('roles change; a removed member loses access at once', async () => {
    const owner = await registerUser();
    const member = await addMember(owner, 'viewer');
    const asMember = { token: member.token, headers: inWorkspace(owner.workspaceId) };
    await callJson('POST', '/v1/models', 403, { ...asMember, body: { name: uniqueName() } });
    const changed = await callJson('PATCH', `/v1/members/${member.userId}`, 200, {
      token: owner.token,
      body: { role: 'member' },
    });
    expect(changed).toMatchObject({ user_id: member.userId, role: 'member', email: member.email });
    await callJson('POST', '/v1/models', 201, { ...asMember, body: { name: uniqueName() } });
    await callJson('DELETE', `/v1/members/${member.userId}`, 204, { token: owner.token });
    const gone = await callJson('GET', '/v1/models', 404, asMember);
    expect(gone.error.code).toBe('workspace_not_found');
    await callJson('DELETE', `/v1/members/${member.userId}`, 404, { token: owner.token });
  });

  it('a workspace keeps at least one owner', async () => {
    const owner = await registerUser();
    const last = await callJson('PATCH', `/v1/members/${owner.userId}`, 409, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(last.error.code).toBe('last_owner');
    await callJson('DELETE', `/v1/members/${owner.userId}`, 409, { token: owner.token });
    const second = await addMember(owner, 'owner');
    await callJson('PATCH', `/v1/members/${owner.userId}`, 200, { token: owner.token, body: { role: 'admin' } });
    const members = await callJson('GET', '/v1/members', 200, {
      token: second.token,
      headers: inWorkspace(owner.workspaceId),
    });
    expect(members.members.filter((m: any) => m.role === 'owner').map((m: any) => m.user_id)).toEqual([second.userId]);
  });

  it('admins manage members but not owners', async () => {
    const owner = await registerUser();
    const admin = await addMember(owner, 'admin');
    const viewer = await addMember(owner, 'viewer');
    const asAdmin = { token: admin.token, headers: inWorkspace(owner.workspaceId) };
    await callJson('PATCH', `/v1/members/${viewer.userId}`, 200, { ...asAdmin, body: { role: 'member' } });
    expect(
      (await callJson('PATCH', `/v1/members/${owner.userId}`, 403, { ...asAdmin, body: { role: 'viewer' } })).error
        .code,
    ).toBe('owner_only');
    await callJson('PATCH', `/v1/members/${viewer.userId}`, 403, { ...asAdmin, body: { role: 'owner' } });
    await callJson('DELETE', `/v1/members/${owner.userId}`, 403, asAdmin);
    await callJson('DELETE', `/v1/members/${viewer.userId}`, 204, asAdmin);
  });

  it('a user removed from their personal workspace is told to name one', async () => {
    const owner = await registerUser();
    const co = await addMember(owner, 'owner');
    await callJson('DELETE', `/v1/members/${owner.userId}`, 204, {
      token: co.token,
      headers: inWorkspace(owner.workspaceId),
    });
    const err = await callJson('GET', '/v1/models', 404, { token: owner.token });
    expect(err.error.message).toContain('Modelflare-Workspace');
  });

  it('member lists page newest first', async () => {
    const owner = await registerUser();
    await addMember(owner, 'viewer');
    await addMember(owner, 'viewer');
    const first = await callJson('GET', '/v1/members?limit=2', 200, { token: owner.token });
    expect(first.members).toHaveLength(2);
    const rest = await callJson('GET', `/v1/members?limit=2&cursor=${first.next_cursor}`, 200, { token: owner.token });
    expect(rest.members.map((m: any) => m.user_id)).toEqual([owner.userId]);
    expect(rest.next_cursor).toBeNull();
  });

  it('validates user ids and roles', async () => {
    const owner = await registerUser();
    await callJson('PATCH', '/v1/members/bob', 400, { token: owner.token, body: { role: 'member' } });
    await callJson('PATCH', `/v1/members/${owner.userId}`, 400, { token: owner.token, body: { role: 'god' } });
    const res = await call('PATCH', `/v1/members/usr_${'0'.repeat(32)}`, {
      token: owner.token,
      body: { role: 'member' },
    });
    expect(res.status).toBe(404);
  });
});
