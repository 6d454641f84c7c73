import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { login } from '../../workers/auth/accounts';
import { changePassword } from '../../workers/auth/password-changes';
import { RESET_TOKEN_TTL_MS, issuePasswordReset, redeemPasswordReset } from '../../workers/auth/password-resets';
import type { Principal } from '../../workers/auth/principal';
import { allPermissions, permissionsOf } from '../../workers/auth/roles';
import { refreshSession } from '../../workers/auth/sessions';
import { endUserSession, listSessions } from '../../workers/auth/user-sessions';
import { passwordResets } from '../../workers/storage/schema';
import { call, callJson, inWorkspace, PASSWORD, registerUser, testWorker, type TestUser } from '../helpers';

/*
 * Issue 13, point 2: a user changes her password (the current one needed; her other sessions
 * end), lists and ends her sessions; an owner or the platform admin issues a one-time,
 * short-lived reset token, whose use sets a new password and ends every session.
 */

const NEW_PASSWORD = 'a different horse, battery and staple';
// One isolate for the service calls and the requests that check them: a change is seen at
// once where it was made (elsewhere within CACHE_STALE_LIMIT_SECONDS).
const isolate = testWorker();
const deps = () => isolate.deps();
const limits = { prediction: null, management: null, windowSeconds: null };

const ADMIN: Principal = {
  kind: 'admin',
  id: 'admin',
  workspaceId: 'ws_default',
  permissions: allPermissions(),
  limits,
};
const asUser = (user: TestUser, workspaceId: string, role: 'owner' | 'admin' | 'member' | 'viewer'): Principal => ({
  kind: 'user',
  id: user.userId,
  workspaceId,
  role,
  sessionId: 'ses_test',
  permissions: permissionsOf(role),
  limits,
});

/** Whether an access token still gets through (the session behind it is live). */
const works = async (token: string) => (await call('GET', '/v1/me', { token, via: isolate })).status === 200;

async function signIn(user: TestUser, password = PASSWORD) {
  return login(deps(), { email: user.email, password });
}

describe('changing a password', () => {
  it('needs the current password, ends every other session, keeps this one', async () => {
    const user = await registerUser('change');
    const laptop = await signIn(user);
    const phone = await signIn(user);
    await expect(
      changePassword(deps(), user.userId, laptop.sessionId, {
        currentPassword: 'not it at all',
        newPassword: NEW_PASSWORD,
      }),
    ).rejects.toMatchObject({ kind: 'invalid_argument', code: 'wrong_password' });
    await expect(
      changePassword(deps(), user.userId, laptop.sessionId, { currentPassword: PASSWORD, newPassword: 'short' }),
    ).rejects.toMatchObject({ code: 'weak_password' });
    expect(await works(phone.accessToken)).toBe(true);

    const result = await changePassword(deps(), user.userId, laptop.sessionId, {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(result.endedSessions).toBe(2); // the registration's session and the phone's
    expect(await works(laptop.accessToken)).toBe(true);
    expect(await works(phone.accessToken)).toBe(false);
    expect(await works(user.token)).toBe(false);
    await expect(refreshSession(deps(), phone.refreshToken)).rejects.toMatchObject({ code: 'invalid_refresh_token' });
    await expect(signIn(user)).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect((await signIn(user, NEW_PASSWORD)).userId).toBe(user.userId);
  });
});

describe('a user’s sessions', () => {
  it('lists the live ones, marks the current one, and ends one of hers only', async () => {
    const user = await registerUser('sessions');
    const other = await registerUser('sessions');
    const second = await signIn(user);
    const listed = await listSessions(deps(), user.userId, second.sessionId);
    expect(listed).toHaveLength(2); // the registration's and this sign-in's
    expect(listed.map((s) => s.id)).toContain(second.sessionId);
    expect(listed.filter((s) => s.current).map((s) => s.id)).toEqual([second.sessionId]);
    for (const s of listed) expect(s.expiresAt).toBeGreaterThan(Date.now());

    const first = listed.find((s) => !s.current)!;
    await expect(endUserSession(deps(), other.userId, first.id)).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await works(user.token)).toBe(true);
    await endUserSession(deps(), user.userId, first.id);
    expect(await works(user.token)).toBe(false);
    expect(await works(second.accessToken)).toBe(true);
    expect((await listSessions(deps(), user.userId)).map((s) => s.id)).toEqual([second.sessionId]);
    await expect(endUserSession(deps(), user.userId, first.id)).rejects.toMatchObject({ code: 'session_not_found' });
  });
});

describe('password reset tokens', () => {
  it('the platform admin issues one; using it sets the password and ends every session, once', async () => {
    const user = await registerUser('reset');
    const other = await signIn(user);
    const issued = await issuePasswordReset(deps(), ADMIN, user.userId);
    expect(issued.token).toMatch(/^mfp_[A-Za-z0-9_-]{43}$/);
    expect(issued.expiresAt - Date.now()).toBeLessThanOrEqual(RESET_TOKEN_TTL_MS);
    expect(issued.workspaceId).toBeNull();
    const row = (await deps().db.query.passwordResets.findFirst({ where: eq(passwordResets.id, issued.id) }))!;
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(issued.token.slice(4));

    await expect(redeemPasswordReset(deps(), issued.token, 'short')).rejects.toMatchObject({ code: 'weak_password' });
    const done = await redeemPasswordReset(deps(), issued.token, NEW_PASSWORD);
    expect(done).toEqual({ userId: user.userId, workspaceId: null, endedSessions: 2 });
    expect(await works(user.token)).toBe(false);
    expect(await works(other.accessToken)).toBe(false);
    expect((await signIn(user, NEW_PASSWORD)).userId).toBe(user.userId);
    await expect(redeemPasswordReset(deps(), issued.token, 'yet another long password')).rejects.toMatchObject({
      kind: 'unauthenticated',
      code: 'invalid_reset_token',
    });
  });

  it('expires, and a newer token replaces an older one; malformed tokens are refused unlooked', async () => {
    const user = await registerUser('reset');
    const first = await issuePasswordReset(deps(), ADMIN, user.userId);
    const second = await issuePasswordReset(deps(), ADMIN, user.userId);
    await expect(redeemPasswordReset(deps(), first.token, NEW_PASSWORD)).rejects.toMatchObject({
      code: 'invalid_reset_token',
    });
    await deps()
      .db.update(passwordResets)
      .set({ expiresAt: Date.now() - 1 })
      .where(eq(passwordResets.id, second.id));
    await expect(redeemPasswordReset(deps(), second.token, NEW_PASSWORD)).rejects.toMatchObject({
      code: 'invalid_reset_token',
    });
    for (const token of ['', 'mfp_short', `mfk_${'A'.repeat(43)}`])
      await expect(redeemPasswordReset(deps(), token, NEW_PASSWORD)).rejects.toMatchObject({
        code: 'invalid_reset_token',
      });
    expect((await signIn(user)).userId).toBe(user.userId); // the password never changed
  });

  it('a changed password revokes a reset token not yet used', async () => {
    const user = await registerUser('reset');
    const issued = await issuePasswordReset(deps(), ADMIN, user.userId);
    await changePassword(deps(), user.userId, undefined, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    await expect(redeemPasswordReset(deps(), issued.token, 'an attacker chose this one')).rejects.toMatchObject({
      code: 'invalid_reset_token',
    });
  });

  it('an owner issues one for a member whose account reaches nothing beyond the owner’s workspaces', async () => {
    const owner = await registerUser('owner');
    const team = await callJson('POST', '/v1/workspaces', 201, { token: owner.token, body: { name: 'team' } });
    const inviteTo = async (workspaceId: string, by: TestUser, role: string) => {
      const member = await registerUser(role);
      const invitation = await callJson('POST', '/v1/invitations', 201, {
        token: by.token,
        headers: inWorkspace(workspaceId),
        body: { email: member.email, role },
      });
      await callJson('POST', '/v1/invitations/accept', 200, { token: member.token, body: { token: invitation.token } });
      return member;
    };
    const member = await inviteTo(team.id, owner, 'member');
    const teamAdmin = await inviteTo(team.id, owner, 'admin');

    const issued = await issuePasswordReset(deps(), asUser(owner, team.id, 'owner'), member.userId);
    expect(issued.workspaceId).toBe(team.id);
    expect((await redeemPasswordReset(deps(), issued.token, NEW_PASSWORD)).workspaceId).toBe(team.id);
    expect((await signIn(member, NEW_PASSWORD)).userId).toBe(member.userId);

    // Not an owner, an API key, oneself, or someone outside the workspace.
    await expect(issuePasswordReset(deps(), asUser(teamAdmin, team.id, 'admin'), member.userId)).rejects.toMatchObject({
      kind: 'permission_denied',
      code: 'owner_only',
    });
    const key: Principal = {
      kind: 'api_key',
      id: 'key_x',
      ownerId: owner.userId,
      workspaceId: team.id,
      permissions: allPermissions(),
      limits,
    };
    await expect(issuePasswordReset(deps(), key, member.userId)).rejects.toMatchObject({ code: 'owner_only' });
    await expect(issuePasswordReset(deps(), asUser(owner, team.id, 'owner'), owner.userId)).rejects.toMatchObject({
      code: 'own_password',
    });
    const stranger = await registerUser('stranger');
    await expect(issuePasswordReset(deps(), asUser(owner, team.id, 'owner'), stranger.userId)).rejects.toMatchObject({
      kind: 'not_found',
      code: 'member_not_found',
    });
    await expect(issuePasswordReset(deps(), ADMIN, 'usr_nobody')).rejects.toMatchObject({ code: 'user_not_found' });

    // A member of another owner's team too: only the platform admin may reset her.
    const elsewhere = await registerUser('elsewhere');
    const other = await inviteTo(elsewhere.workspaceId, elsewhere, 'member');
    await callJson('POST', '/v1/invitations/accept', 200, {
      token: other.token,
      body: {
        token: (
          await callJson('POST', '/v1/invitations', 201, {
            token: owner.token,
            headers: inWorkspace(team.id),
            body: { email: other.email, role: 'member' },
          })
        ).token,
      },
    });
    await expect(issuePasswordReset(deps(), asUser(owner, team.id, 'owner'), other.userId)).rejects.toMatchObject({
      kind: 'permission_denied',
      code: 'reset_needs_admin',
    });
    expect((await issuePasswordReset(deps(), ADMIN, other.userId)).token).toMatch(/^mfp_/);
  });
});
