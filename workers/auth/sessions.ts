import { and, eq, isNull, ne } from 'drizzle-orm';
import { unauthenticated } from '../core/errors';
import { newId } from '../core/ids';
import { refreshTokens, sessions, type SessionEndReason } from '../storage/schema';
import type { AuthDeps } from './deps';
import { signAccessToken } from './jwt';
import { REFRESH_TOKEN_PREFIX, SECRET_SHAPE, newSecret, sha256Hex } from './secrets';

/*
 * A session is one login. Its refresh tokens form a family: each is good for one use, which
 * hands out the next. If a used one comes back, someone holds a copy: the whole session
 * ends, so the thief's and the owner's tokens all stop working and the owner signs in again.
 */

export interface Tokens {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
  userId: string;
  sessionId: string;
}

/** Statements that open a session with its first refresh token, to batch with other writes. */
export async function openSession(deps: AuthDeps, userId: string) {
  const sessionId = newId('ses');
  const now = Date.now();
  const refresh = await refreshTokenValues(deps, sessionId, now);
  return {
    sessionId,
    refreshToken: refresh.token,
    statements: [
      deps.db.insert(sessions).values({ id: sessionId, userId, createdAt: now }),
      deps.db.insert(refreshTokens).values(refresh.row),
    ] as const,
  };
}

async function refreshTokenValues(deps: AuthDeps, sessionId: string, now: number) {
  const token = newSecret(REFRESH_TOKEN_PREFIX);
  return {
    token,
    row: {
      tokenHash: await sha256Hex(token),
      sessionId,
      createdAt: now,
      expiresAt: now + deps.config.REFRESH_TOKEN_TTL_SECONDS * 1000,
    },
  };
}

export async function tokensFor(deps: AuthDeps, userId: string, sessionId: string, refreshToken: string) {
  const access = await signAccessToken(deps.config, { userId, sessionId });
  return {
    accessToken: access.token,
    expiresIn: access.expiresIn,
    refreshToken,
    refreshExpiresIn: deps.config.REFRESH_TOKEN_TTL_SECONDS,
    userId,
    sessionId,
  } satisfies Tokens;
}

const invalidRefresh = () => unauthenticated('invalid refresh token: sign in again', { code: 'invalid_refresh_token' });

export async function endSession(deps: AuthDeps, sessionId: string, reason: SessionEndReason): Promise<void> {
  await deps.db
    .update(sessions)
    .set({ revokedAt: Date.now(), revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
  deps.changes.accessChanged();
}

/** Ends every live session of the user but `except` (the caller's own); answers how many ended. */
export async function endAllSessions(
  deps: AuthDeps,
  userId: string,
  options: { except?: string; reason?: SessionEndReason } = {},
): Promise<number> {
  const ended = await deps.db
    .update(sessions)
    .set({ revokedAt: Date.now(), revokedReason: options.reason ?? 'logout' })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        options.except === undefined ? undefined : ne(sessions.id, options.except),
      ),
    )
    .returning({ id: sessions.id });
  deps.changes.accessChanged();
  return ended.length;
}

/** Trades a refresh token for a new access token and a new refresh token. */
export async function refreshSession(deps: AuthDeps, token: string): Promise<Tokens> {
  if (!SECRET_SHAPE(REFRESH_TOKEN_PREFIX).test(token)) throw invalidRefresh();
  const tokenHash = await sha256Hex(token);
  const [found] = await deps.db
    .select({ token: refreshTokens, session: sessions })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, tokenHash));
  if (!found || found.session.revokedAt !== null) throw invalidRefresh();
  const now = Date.now();
  if (found.token.expiresAt <= now) {
    throw unauthenticated('refresh token expired: sign in again', { code: 'refresh_token_expired' });
  }
  // Claiming the token and checking it was unused is one statement, so two racing refreshes
  // cannot both succeed: the loser is treated like any other reuse.
  const claimed = await deps.db
    .update(refreshTokens)
    .set({ usedAt: now })
    .where(and(eq(refreshTokens.tokenHash, tokenHash), isNull(refreshTokens.usedAt)))
    .returning({ sessionId: refreshTokens.sessionId });
  if (claimed.length === 0) {
    await endSession(deps, found.session.id, 'refresh_token_reuse');
    deps.logger.warn('refresh token reused; session ended', {
      session_id: found.session.id,
      user_id: found.session.userId,
    });
    throw unauthenticated('this refresh token was already used; the session has been ended, sign in again', {
      code: 'refresh_token_reused',
    });
  }
  const next = await refreshTokenValues(deps, found.session.id, now);
  await deps.db.insert(refreshTokens).values(next.row);
  return tokensFor(deps, found.session.userId, found.session.id, next.token);
}
