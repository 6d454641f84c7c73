import { and, eq, gt, isNull, ne } from 'drizzle-orm';
import { notFound, permissionDenied, unauthenticated } from '../core/errors';
import { newId } from '../core/ids';
import { memberships, passwordResets, users } from '../storage/schema';
import type { AuthDeps } from './deps';
import { hashPassword, requirePasswordPolicy } from './passwords';
import type { Principal } from './principal';
import { SECRET_SHAPE, newSecret, sha256Hex } from './secrets';
import { endAllSessions } from './sessions';

/*
 * Without e-mail, a locked-out user gets back in with a one-time reset token that a workspace
 * owner or the platform administrator issues and hands over. Using it sets a new password and
 * ends every session. The token is 256 random bits after `mfp_`; only its SHA-256 is stored; it
 * works once, for an hour, and issuing another for the same user revokes it.
 *
 * Whoever issues a token can use it, so an owner may issue one only for a member whose account
 * reaches nothing the owner does not own already: every workspace the member belongs to,
 * besides her own personal workspace, must be one the owner owns. Anyone else (a member of
 * another team too) is reset by the platform administrator. A member's personal workspace is
 * the part an owner's reset does expose: the README says so.
 */

export const RESET_TOKEN_PREFIX = 'mfp_';
export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;

export interface IssuedReset {
  id: string;
  userId: string;
  /** The secret to hand over: shown this once. */
  token: string;
  expiresAt: number;
  /** The workspace whose owner issued it; null for the platform administrator. */
  workspaceId: string | null;
}

async function requireMayReset(deps: AuthDeps, issuer: Principal, userId: string): Promise<void> {
  if (issuer.kind === 'admin') return;
  if (issuer.kind !== 'user' || issuer.role !== 'owner') {
    throw permissionDenied('only a workspace owner or the platform administrator can issue a password reset', {
      code: 'owner_only',
    });
  }
  if (issuer.id === userId) {
    throw permissionDenied('change your own password instead (it needs the current one)', { code: 'own_password' });
  }
  // Where the user is a member, besides her personal workspace; and where the issuer is an owner.
  const [reach, owned] = await deps.db.batch([
    deps.db
      .select({ workspaceId: memberships.workspaceId })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.userId, userId), ne(memberships.workspaceId, users.personalWorkspaceId))),
    deps.db
      .select({ workspaceId: memberships.workspaceId })
      .from(memberships)
      .where(and(eq(memberships.userId, issuer.id), eq(memberships.role, 'owner'))),
  ]);
  if (!reach.some((r) => r.workspaceId === issuer.workspaceId)) {
    throw notFound(`no member '${userId}' in this workspace`, { code: 'member_not_found' });
  }
  const ownedIds = new Set(owned.map((o) => o.workspaceId));
  if (reach.some((r) => !ownedIds.has(r.workspaceId))) {
    throw permissionDenied(
      'this member also belongs to a workspace you do not own: only the platform administrator can reset her password',
      { code: 'reset_needs_admin' },
    );
  }
}

export async function issuePasswordReset(deps: AuthDeps, issuer: Principal, userId: string): Promise<IssuedReset> {
  const user = await deps.db.query.users.findFirst({ where: eq(users.id, userId), columns: { id: true } });
  if (!user) throw notFound(`user '${userId}' not found`, { code: 'user_not_found' });
  await requireMayReset(deps, issuer, userId);
  const now = Date.now();
  const token = newSecret(RESET_TOKEN_PREFIX);
  const issued = {
    id: newId('pwr'),
    userId,
    expiresAt: now + RESET_TOKEN_TTL_MS,
    workspaceId: issuer.kind === 'admin' ? null : issuer.workspaceId,
  };
  await deps.db.batch([
    deps.db
      .update(passwordResets)
      .set({ revokedAt: now })
      .where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt), isNull(passwordResets.revokedAt))),
    deps.db.insert(passwordResets).values({
      ...issued,
      tokenHash: await sha256Hex(token),
      issuedBy: issuer.id,
      createdAt: now,
    }),
  ]);
  return { ...issued, token };
}

const invalidToken = () =>
  unauthenticated('this password reset token is not valid: it is unknown, used, replaced or expired', {
    code: 'invalid_reset_token',
  });

/**
 * Sets a new password with a reset token and ends every session of the user. The token is
 * claimed in the statement that checks it, so two uses racing cannot both succeed.
 */
export async function redeemPasswordReset(
  deps: AuthDeps,
  token: string,
  newPassword: string,
): Promise<{ userId: string; workspaceId: string | null; endedSessions: number }> {
  if (!SECRET_SHAPE(RESET_TOKEN_PREFIX).test(token)) throw invalidToken();
  requirePasswordPolicy(newPassword);
  const passwordHash = await hashPassword(newPassword);
  const now = Date.now();
  const [claimed] = await deps.db
    .update(passwordResets)
    .set({ usedAt: now })
    .where(
      and(
        eq(passwordResets.tokenHash, await sha256Hex(token)),
        isNull(passwordResets.usedAt),
        isNull(passwordResets.revokedAt),
        gt(passwordResets.expiresAt, now),
      ),
    )
    .returning({ userId: passwordResets.userId, workspaceId: passwordResets.workspaceId });
  if (!claimed) throw invalidToken();
  await deps.db.update(users).set({ passwordHash }).where(eq(users.id, claimed.userId));
  const endedSessions = await endAllSessions(deps, claimed.userId, { reason: 'password_reset' });
  // The workspace whose owner issued the token: where the audit log records its use.
  return { userId: claimed.userId, workspaceId: claimed.workspaceId, endedSessions };
}
