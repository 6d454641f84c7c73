import { beforeAll, describe, expect, it } from 'vitest';
import { authorize } from '../../workers/auth/authenticate';
import type { Permission, Principal } from '../../workers/auth/principal';
import { permissionsOf } from '../../workers/auth/roles';
import {
  type CallOptions,
  type TestUser,
  addMember,
  call,
  createKey,
  inWorkspace,
  registerUser,
  uniqueName,
} from '../helpers';

/** One request per kind of permission that routes exist for today. */
const probes: Record<'read' | 'write' | 'admin', (as: CallOptions) => Promise<number>> = {
  read: async (as) => (await call('GET', '/v1/models', as)).status,
  write: async (as) => (await call('POST', '/v1/models', { ...as, body: { name: uniqueName() } })).status,
  admin: async (as) => {
    const statuses = await Promise.all(
      ['/v1/api-keys', '/v1/members', '/v1/invitations', '/v1/audit-log'].map(
        async (path) => (await call('GET', path, as)).status,
      ),
    );
    const rename = await call('PATCH', '/v1/workspace', { ...as, body: { name: 'renamed' } });
    return new Set([...statuses, rename.status]).size === 1 ? statuses[0]! : -1;
  },
};

async function matrixOf(as: CallOptions) {
  return { read: await probes.read(as), write: await probes.write(as), admin: await probes.admin(as) };
}

describe('role matrix', () => {
  let owner: TestUser;
  const members: Record<string, TestUser> = {};

  beforeAll(async () => {
    owner = await registerUser('owner');
    for (const role of ['admin', 'member', 'viewer']) members[role] = await addMember(owner, role);
  });

  it('owner, admin, member and viewer get what their role allows, 403 beyond it', async () => {
    const inOwners = (user: TestUser) => ({ token: user.token, headers: inWorkspace(owner.workspaceId) });
    expect(await matrixOf(inOwners(owner))).toEqual({ read: 200, write: 201, admin: 200 });
    expect(await matrixOf(inOwners(members.admin!))).toEqual({ read: 200, write: 201, admin: 200 });
    expect(await matrixOf(inOwners(members.member!))).toEqual({ read: 200, write: 201, admin: 403 });
    expect(await matrixOf(inOwners(members.viewer!))).toEqual({ read: 200, write: 403, admin: 403 });
    // In their own personal workspace each of them is the owner.
    expect(await matrixOf({ token: members.viewer!.token })).toEqual({ read: 200, write: 201, admin: 200 });
  });

  it('the 403 names the role and the missing permission', async () => {
    const res = await call('POST', '/v1/models', {
      token: members.viewer!.token,
      headers: inWorkspace(owner.workspaceId),
      body: { name: uniqueName() },
    });
    const body = await res.json<any>();
    expect(body.error.message).toBe("your role in this workspace (viewer) lacks the 'models:write' permission");
  });

  it('roles map to permissions, predict and jobs included', () => {
    const principal = (role: 'owner' | 'admin' | 'member' | 'viewer'): Principal => ({
      kind: 'user',
      id: 'usr_x',
      sessionId: 'ses_x',
      workspaceId: 'ws_x',
      role,
      permissions: permissionsOf(role),
      limits: { prediction: null, management: null, windowSeconds: null },
    });
    const allowed = (role: 'owner' | 'admin' | 'member' | 'viewer', p: Permission) => {
      try {
        authorize(principal(role), p);
        return true;
      } catch {
        return false;
      }
    };
    const table = Object.fromEntries(
      (['owner', 'admin', 'member', 'viewer'] as const).map((role) => [
        role,
        (['models:read', 'models:write', 'predict', 'jobs', 'admin'] as const).filter((p) => allowed(role, p)),
      ]),
    );
    expect(table).toEqual({
      owner: ['models:read', 'models:write', 'predict', 'jobs', 'admin'],
      admin: ['models:read', 'models:write', 'predict', 'jobs', 'admin'],
      member: ['models:read', 'models:write', 'predict', 'jobs'],
      viewer: ['models:read'],
    });
  });
});

describe('scope matrix', () => {
  it('each API key scope opens exactly its routes', async () => {
    const owner = await registerUser();
    const key = async (scope: string) => ({ token: (await createKey([scope], { token: owner.token })).key });
    expect(await matrixOf(await key('models:read'))).toEqual({ read: 200, write: 403, admin: 403 });
    expect(await matrixOf(await key('models:write'))).toEqual({ read: 403, write: 201, admin: 403 });
    expect(await matrixOf(await key('admin'))).toEqual({ read: 403, write: 403, admin: 200 });
    expect(await matrixOf(await key('predict'))).toEqual({ read: 403, write: 403, admin: 403 });
    expect(await matrixOf(await key('jobs'))).toEqual({ read: 403, write: 403, admin: 403 });
  });
});
