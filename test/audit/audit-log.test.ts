import { describe, expect, it } from 'vitest';
import {
  ADD_MODEL,
  addMember,
  call,
  callJson,
  createKey,
  fixture,
  inWorkspace,
  registerUser,
  uniqueName,
  uploadRaw,
} from '../helpers';

async function allEntries(token: string, headers: Record<string, string> = {}) {
  const entries: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await callJson('GET', `/v1/audit-log?limit=5${cursor ? `&cursor=${cursor}` : ''}`, 200, {
      token,
      headers,
    });
    entries.push(...page.entries);
    cursor = page.next_cursor;
  } while (cursor);
  return entries;
}

describe('audit log', () => {
  it('records every registry, alias, key, membership and workspace change with actor and request id', async () => {
    const owner = await registerUser();
    const as = (requestId: string) => ({ token: owner.token, headers: { 'x-request-id': requestId } });
    const name = uniqueName();
    await callJson('POST', '/v1/models', 201, { ...as('r-model-create'), body: { name } });
    await callJson('PATCH', `/v1/models/${name}`, 200, { ...as('r-model-update'), body: { description: 'd' } });
    expect((await uploadRaw(name, fixture(ADD_MODEL), as('r-version-create'))).status).toBe(201);
    await callJson('PATCH', `/v1/models/${name}/versions/1`, 200, { ...as('r-version-update'), body: { tags: {} } });
    await callJson('PUT', `/v1/models/${name}/aliases/staging`, 200, { ...as('r-alias-set'), body: { version: 1 } });
    await callJson('DELETE', `/v1/models/${name}/aliases/staging`, 200, as('r-alias-delete'));
    await callJson('DELETE', `/v1/models/${name}/versions/1`, 200, as('r-version-archive'));
    await callJson('DELETE', `/v1/models/${name}`, 200, as('r-model-archive'));
    await callJson('DELETE', `/v1/models/${name}?purge=true`, 204, as('r-model-purge'));
    const key = await createKey(['predict'], as('r-key-create'));
    await callJson('DELETE', `/v1/api-keys/${key.id}`, 200, as('r-key-revoke'));
    const invitee = await registerUser();
    const inv = await callJson('POST', '/v1/invitations', 201, {
      ...as('r-invitation-create'),
      body: { email: invitee.email, role: 'viewer' },
    });
    await callJson('POST', '/v1/invitations/accept', 200, {
      token: invitee.token,
      headers: { 'x-request-id': 'r-member-add' },
      body: { token: inv.token },
    });
    await callJson('PATCH', `/v1/members/${invitee.userId}`, 200, {
      ...as('r-member-update'),
      body: { role: 'member' },
    });
    await callJson('DELETE', `/v1/members/${invitee.userId}`, 204, as('r-member-remove'));
    const other = await callJson('POST', '/v1/invitations', 201, {
      ...as('r-invitation-create-2'),
      body: { email: `${uniqueName()}@example.com` },
    });
    await callJson('DELETE', `/v1/invitations/${other.id}`, 200, as('r-invitation-revoke'));
    await callJson('PATCH', '/v1/workspace', 200, { ...as('r-workspace-update'), body: { name: 'renamed' } });

    const entries = await allEntries(owner.token);
    const byRequest = Object.fromEntries(entries.map((e) => [e.request_id, e]));
    const expected: [string, string, string][] = [
      ['r-model-create', 'model.create', `model:${name}`],
      ['r-model-update', 'model.update', `model:${name}`],
      ['r-version-create', 'version.create', `model:${name}/version:1`],
      ['r-version-update', 'version.update', `model:${name}/version:1`],
      ['r-alias-set', 'alias.set', `model:${name}/alias:staging`],
      ['r-alias-delete', 'alias.delete', `model:${name}/alias:staging`],
      ['r-version-archive', 'version.archive', `model:${name}/version:1`],
      ['r-model-archive', 'model.archive', `model:${name}`],
      ['r-model-purge', 'model.purge', `model:${name}`],
      ['r-key-create', 'api_key.create', `api_key:${key.id}`],
      ['r-key-revoke', 'api_key.revoke', `api_key:${key.id}`],
      ['r-invitation-create', 'invitation.create', `invitation:${inv.id}`],
      ['r-member-add', 'member.add', `user:${invitee.userId}`],
      ['r-member-update', 'member.update', `user:${invitee.userId}`],
      ['r-member-remove', 'member.remove', `user:${invitee.userId}`],
      ['r-invitation-revoke', 'invitation.revoke', `invitation:${other.id}`],
      ['r-workspace-update', 'workspace.update', `workspace:${owner.workspaceId}`],
    ];
    for (const [requestId, action, target] of expected) {
      expect(byRequest[requestId], requestId).toMatchObject({ action, target });
    }
    expect(byRequest['r-member-add'].actor).toEqual({ kind: 'user', id: invitee.userId });
    expect(byRequest['r-model-create'].actor).toEqual({ kind: 'user', id: owner.userId });
    expect(byRequest['r-alias-set'].details).toEqual({ version: 1, previous_version: null });
    expect(byRequest['r-key-create'].details).toMatchObject({ scopes: ['predict'] });
    expect(byRequest['r-model-purge'].details).toMatchObject({ versions: 1 });
    expect(Date.parse(byRequest['r-model-create'].created_at)).toBeGreaterThan(Date.now() - 60_000);
    // Newest first.
    const ids = entries.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    // Secrets never reach the log.
    const text = JSON.stringify(entries);
    expect(text).not.toContain(key.key);
    expect(text).not.toContain(inv.token);

    const team = await callJson('POST', '/v1/workspaces', 201, { ...as('r-workspace-create'), body: { name: 't' } });
    const [created] = await allEntries(owner.token, inWorkspace(team.id));
    expect(created).toMatchObject({
      action: 'workspace.create',
      target: `workspace:${team.id}`,
      request_id: 'r-workspace-create',
    });
  });

  it('records who acted when it was an API key or the admin', async () => {
    const owner = await registerUser();
    const key = await createKey(['models:write'], { token: owner.token });
    const name = uniqueName();
    await callJson('POST', '/v1/models', 201, { token: key.key, body: { name } });
    await callJson('PATCH', `/v1/models/${name}`, 200, {
      headers: inWorkspace(owner.workspaceId),
      body: { task: 'other' },
    });
    const entries = await callJson('GET', '/v1/audit-log?action=model.create', 200, { token: owner.token });
    expect(entries.entries.map((e: any) => e.actor)).toEqual([{ kind: 'api_key', id: key.id }]);
    const updates = await callJson('GET', '/v1/audit-log?action=model.update', 200, { token: owner.token });
    expect(updates.entries.map((e: any) => e.actor)).toEqual([{ kind: 'admin', id: 'admin' }]);
  });

  it('records nothing for a change that failed', async () => {
    const owner = await registerUser();
    await callJson('POST', '/v1/models', 400, { token: owner.token, body: { name: 'Bad Name' } });
    await callJson('PUT', '/v1/models/absent/aliases/prod', 404, { token: owner.token, body: { version: 1 } });
    expect((await callJson('GET', '/v1/audit-log', 200, { token: owner.token })).entries).toEqual([]);
  });

  it('is for workspace admins only', async () => {
    const owner = await registerUser();
    const member = await addMember(owner, 'member');
    const err = await callJson('GET', '/v1/audit-log', 403, {
      token: member.token,
      headers: inWorkspace(owner.workspaceId),
    });
    expect(err.error.message).toContain("'admin'");
    expect((await call('GET', '/v1/audit-log?action=DROP TABLE', { token: owner.token })).status).toBe(400);
  });
});
