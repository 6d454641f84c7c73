import { describe, expect, it } from 'vitest';
import { PASSWORD, addMember, call, callJson, inWorkspace, registerUser } from '../helpers';

/* The password and session routes, as a user and an owner call them. */

const login = (email: string, password: string) =>
  call('POST', '/v1/auth/login', { token: null, body: { email, password } });

describe('changing a password', () => {
  it('needs the current one, ends the other sessions, keeps this one', async () => {
    const user = await registerUser();
    const other = await callJson('POST', '/v1/auth/login', 200, {
      token: null,
      body: { email: user.email, password: PASSWORD },
    });
    const wrong = await callJson('POST', '/v1/auth/password', 400, {
      token: user.token,
      body: { current_password: 'not the password', new_password: 'a brand new passphrase' },
    });
    expect(wrong.error.code).toBe('wrong_password');
    const changed = await callJson('POST', '/v1/auth/password', 200, {
      token: user.token,
      body: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
    });
    expect(changed.ended_sessions).toBe(1);
    expect((await callJson('GET', '/v1/me', 200, { token: user.token })).id).toBe(user.userId);
    expect((await callJson('GET', '/v1/me', 401, { token: other.access_token })).error.code).toBe('session_ended');
    expect((await login(user.email, PASSWORD)).status).toBe(401);
    expect((await login(user.email, 'a brand new passphrase')).status).toBe(200);
    const audit = await callJson('GET', '/v1/audit-log?action=user.password_change', 200, { token: user.token });
    expect(audit.entries[0]).toMatchObject({ target: `user:${user.userId}`, actor: { id: user.userId } });
  });

  it('is for signed-in users only, and refuses a short new password naming the field', async () => {
    const user = await registerUser();
    const short = await callJson('POST', '/v1/auth/password', 400, {
      token: user.token,
      body: { current_password: PASSWORD, new_password: 'short' },
    });
    expect(short.error.message).toContain("request body 'new_password'");
    const asAdmin = await callJson('POST', '/v1/auth/password', 403, {
      body: { current_password: 'x', new_password: 'a brand new passphrase' },
    });
    expect(asAdmin.error.code).toBe('user_only');
  });
});

describe('sessions', () => {
  it('lists the live ones, marks this one, and ends another', async () => {
    const user = await registerUser();
    const other = await callJson('POST', '/v1/auth/login', 200, {
      token: null,
      body: { email: user.email, password: PASSWORD },
    });
    const { sessions } = await callJson('GET', '/v1/auth/sessions', 200, { token: user.token });
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s: any) => s.current)).toHaveLength(1);
    const theirs = sessions.find((s: any) => !s.current);
    await callJson('DELETE', `/v1/auth/sessions/${theirs.id}`, 204, { token: user.token });
    expect((await callJson('GET', '/v1/me', 401, { token: other.access_token })).error.code).toBe('session_ended');
    const again = await callJson('DELETE', `/v1/auth/sessions/${theirs.id}`, 404, { token: user.token });
    expect(again.error.code).toBe('session_not_found');
  });
});

describe('password resets', () => {
  it('an owner issues a one-time token for a member; using it sets the password and ends every session', async () => {
    const owner = await registerUser('owner');
    const member = await addMember(owner, 'member');
    const issued = await callJson('POST', `/v1/users/${member.userId}/password-reset`, 201, { token: owner.token });
    expect(issued.token).toMatch(/^mfp_/);
    await call('POST', '/v1/auth/password-reset', {
      token: null,
      body: { token: issued.token, new_password: 'the reset passphrase' },
    }).then((res) => expect(res.status).toBe(204));
    expect((await callJson('GET', '/v1/me', 401, { token: member.token })).error.code).toBe('session_ended');
    expect((await login(member.email, 'the reset passphrase')).status).toBe(200);
    const reused = await callJson('POST', '/v1/auth/password-reset', 401, {
      token: null,
      body: { token: issued.token, new_password: 'another passphrase here' },
    });
    expect(reused.error.code).toBe('invalid_reset_token');
    const entries = (await callJson('GET', '/v1/audit-log', 200, { token: owner.token })).entries;
    expect(entries.find((e: any) => e.action === 'user.password_reset_issued')).toMatchObject({
      actor: { id: owner.userId },
      target: `user:${member.userId}`,
    });
    expect(entries.find((e: any) => e.action === 'user.password_reset')).toMatchObject({
      actor: { id: member.userId },
    });
  });

  it('a member cannot issue one, and nobody resets their own password this way', async () => {
    const owner = await registerUser('owner');
    const member = await addMember(owner, 'admin');
    const byAdmin = await callJson('POST', `/v1/users/${owner.userId}/password-reset`, 403, {
      token: member.token,
      headers: inWorkspace(owner.workspaceId),
    });
    expect(byAdmin.error.code).toBe('owner_only');
    const own = await callJson('POST', `/v1/users/${owner.userId}/password-reset`, 403, { token: owner.token });
    expect(own.error.code).toBe('own_password');
  });
});
