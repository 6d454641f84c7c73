import { z } from '@hono/zod-openapi';
import { recordAudit } from '../../audit/audit-log';
import { requireUser } from '../../auth/authenticate';
import { changePassword } from '../../auth/password-changes';
import { issuePasswordReset, redeemPasswordReset } from '../../auth/password-resets';
import { getUser } from '../../auth/accounts';
import { endUserSession, listSessions } from '../../auth/user-sessions';
import { afterCommit } from '../../core/after-commit';
import { DomainError } from '../../core/errors';
import { audit } from '../audit';
import { chargeAddress, defineRoute } from '../route';
import { newRouter } from '../router';
import { ResourceId, iso, jsonContent } from '../schemas/common';
import { ChangePasswordBody, IssuedReset, PasswordChanged, RedeemResetBody, UserSessionList } from '../schemas/auth';

/*
 * A user's own credentials: change the password (the current one is needed; her other sessions
 * end), see and end her sessions, and the reset tokens a workspace owner or the platform admin
 * issues for someone locked out (there is no e-mail). Wrong current passwords and unusable reset
 * tokens are counted against the client address like failed sign-ins.
 */

const json = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

/** A failure that guesses at a secret: counted per client address, then answered as it was. */
function countedGuess(c: Parameters<typeof chargeAddress>[0], err: unknown): never {
  if (err instanceof DomainError && (err.code === 'wrong_password' || err.code === 'invalid_reset_token')) {
    chargeAddress(c, 'failed-credential');
  }
  throw err;
}

export const passwordRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'json', errors: [403, 404] },
      {
        method: 'post',
        path: '/v1/auth/password',
        tags: ['Accounts'],
        summary: 'Change your password',
        description:
          'Needs the current password. Every other session of yours ends (this one stays); reset tokens not yet used stop working. A wrong current password (400 `wrong_password`) counts against your address like a failed sign-in.',
        request: { body: json(ChangePasswordBody) },
        responses: { 200: jsonContent(PasswordChanged, 'Changed') },
      },
    ),
    async (c) => {
      const principal = c.get('principal');
      requireUser(principal);
      const body = c.req.valid('json');
      const changed = await changePassword(c.get('deps'), principal.id, principal.sessionId, {
        currentPassword: body.current_password,
        newPassword: body.new_password,
      }).catch((err: unknown) => countedGuess(c, err));
      await audit(c, { action: 'user.password_change', target: `user:${principal.id}` });
      return c.json({ ended_sessions: changed.endedSessions }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'none', errors: [403] },
      {
        method: 'get',
        path: '/v1/auth/sessions',
        tags: ['Accounts'],
        summary: 'Your sessions',
        description: 'Where you are signed in: your live sessions, newest activity first, the current one marked.',
        responses: { 200: jsonContent(UserSessionList, 'Sessions') },
      },
    ),
    async (c) => {
      const principal = c.get('principal');
      requireUser(principal);
      const sessions = await listSessions(c.get('deps'), principal.id, principal.sessionId);
      return c.json(
        {
          sessions: sessions.map((s) => ({
            id: s.id,
            created_at: iso(s.createdAt)!,
            last_active_at: iso(s.lastActiveAt)!,
            expires_at: iso(s.expiresAt)!,
            current: s.current,
          })),
        },
        200,
      );
    },
  )
  .openapi(
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'none', errors: [403, 404] },
      {
        method: 'delete',
        path: '/v1/auth/sessions/{id}',
        tags: ['Accounts'],
        summary: 'End one of your sessions',
        description:
          'Its refresh token and access tokens stop working: at once in the isolate that ended it, within CACHE_STALE_LIMIT_SECONDS everywhere else.',
        request: { params: z.object({ id: ResourceId('ses', 'id') }) },
        responses: { 204: { description: 'Ended' } },
      },
    ),
    async (c) => {
      const principal = c.get('principal');
      requireUser(principal);
      await endUserSession(c.get('deps'), principal.id, c.req.valid('param').id);
      return c.body(null, 204);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'post',
        path: '/v1/users/{user_id}/password-reset',
        tags: ['Accounts'],
        summary: 'Issue a password reset token',
        description: [
          'For a user locked out of her account (there is no e-mail): a one-time token, valid for an hour, that sets a new password and ends every session. Hand it over yourself; it is shown once, and a newer one revokes it.',
          'A workspace owner may issue one for a member whose memberships are all in workspaces that owner owns (whoever holds the token holds the account, her personal workspace included); anyone else is reset by the platform administrator (403 `reset_needs_admin`). Your own password is changed with POST /v1/auth/password (403 `own_password`).',
        ].join('\n\n'),
        request: { params: z.object({ user_id: ResourceId('usr', 'user_id') }) },
        responses: { 201: jsonContent(IssuedReset, 'The token') },
      },
    ),
    async (c) => {
      const reset = await issuePasswordReset(c.get('deps'), c.get('principal'), c.req.valid('param').user_id);
      await audit(c, {
        action: 'user.password_reset_issued',
        target: `user:${reset.userId}`,
        details: { id: reset.id },
      });
      return c.json(
        { id: reset.id, user_id: reset.userId, token: reset.token, expires_at: iso(reset.expiresAt)! },
        201,
      );
    },
  )
  .openapi(
    defineRoute(
      { access: 'public', budget: 'sign-in', body: 'json', errors: [401] },
      {
        method: 'post',
        path: '/v1/auth/password-reset',
        tags: ['Accounts'],
        summary: 'Set a new password with a reset token',
        description:
          'No credential needed: the token is the credential. Sets the new password and ends every session of the user; sign in again. An unknown, used or expired token answers 401 `invalid_reset_token`.',
        request: { body: json(RedeemResetBody) },
        responses: { 204: { description: 'Password set; sign in' } },
      },
    ),
    async (c) => {
      const deps = c.get('deps');
      const body = c.req.valid('json');
      const redeemed = await redeemPasswordReset(deps, body.token, body.new_password).catch((err: unknown) =>
        countedGuess(c, err),
      );
      c.get('access').actor = redeemed.userId;
      // The user acted, through the token: recorded where the issuer acts (her own workspace
      // when the platform admin issued it).
      const workspaceId = redeemed.workspaceId ?? (await getUser(deps, redeemed.userId))?.personalWorkspaceId;
      if (workspaceId) {
        await afterCommit(deps, 'audit entry user.password_reset', () =>
          recordAudit(deps.db, { kind: 'user', id: redeemed.userId, workspaceId }, c.get('requestId'), {
            action: 'user.password_reset',
            target: `user:${redeemed.userId}`,
          }),
        );
      }
      return c.body(null, 204);
    },
  );
