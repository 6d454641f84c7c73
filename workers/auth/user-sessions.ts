import { and, desc, eq, gt, isNull, max } from 'drizzle-orm';
import { notFound } from '../core/errors';
import { refreshTokens, sessions } from '../storage/schema';
import type { AuthDeps } from './deps';

/*
 * A user's own view of where she is signed in: her live sessions (one per login), and ending
 * any of them. A session is live until it is ended or its last refresh token expires.
 */

export interface SessionView {
  id: string;
  createdAt: number;
  /** The last sign-in or refresh: when the session last got tokens. */
  lastActiveAt: number;
  /** When it ends unless refreshed again. */
  expiresAt: number;
  /** The session of the access token asking. */
  current: boolean;
}

/** At most this many, newest activity first: a user has a handful. */
const MAX_LISTED = 100;

export async function listSessions(
  deps: AuthDeps,
  userId: string,
  currentSessionId?: string,
  now = Date.now(),
): Promise<SessionView[]> {
  const lastActive = max(refreshTokens.createdAt);
  const expires = max(refreshTokens.expiresAt);
  const rows = await deps.db
    .select({ id: sessions.id, createdAt: sessions.createdAt, lastActiveAt: lastActive, expiresAt: expires })
    .from(sessions)
    .innerJoin(refreshTokens, eq(refreshTokens.sessionId, sessions.id))
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .groupBy(sessions.id)
    .having(gt(expires, now))
    .orderBy(desc(lastActive), desc(sessions.id))
    .limit(MAX_LISTED);
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.createdAt,
    lastActiveAt: r.lastActiveAt ?? r.createdAt,
    expiresAt: r.expiresAt ?? r.createdAt,
    current: r.id === currentSessionId,
  }));
}

/**
 * Ends one of the user's sessions: its refresh tokens and access tokens stop working at once in
 * this isolate, within the credential cache's TTL elsewhere. Another user's session, or one
 * already ended, answers 404.
 */
export async function endUserSession(deps: AuthDeps, userId: string, sessionId: string): Promise<void> {
  const ended = await deps.db
    .update(sessions)
    .set({ revokedAt: Date.now(), revokedReason: 'ended_by_user' })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  if (ended.length === 0) throw notFound(`session '${sessionId}' not found`, { code: 'session_not_found' });
  deps.changes.accessChanged();
}
