import { and, eq, isNull } from 'drizzle-orm';
import { invalidInput, notFound } from '../core/errors';
import { passwordResets, users } from '../storage/schema';
import type { AuthDeps } from './deps';
import { hashPassword, requirePasswordPolicy, checkPassword } from './passwords';
import { endAllSessions } from './sessions';

/**
 * A signed-in user changes her password: the current one is required, and every other
 * session ends (someone who had her password, or one of her tokens, is signed out); the
 * session she changes it from stays. Reset tokens not yet used stop working.
 */
export async function changePassword(
  deps: AuthDeps,
  userId: string,
  currentSessionId: string | undefined,
  input: { currentPassword: string; newPassword: string },
): Promise<{ endedSessions: number }> {
  requirePasswordPolicy(input.newPassword);
  const user = await deps.db.query.users.findFirst({ where: eq(users.id, userId) });
  if (!user) throw notFound(`user '${userId}' not found`, { code: 'user_not_found' });
  const check = await checkPassword(input.currentPassword, user.passwordHash);
  if (!check.ok) throw invalidInput('the current password is not right', { code: 'wrong_password' });
  const passwordHash = await hashPassword(input.newPassword);
  // Conditional on the hash just verified: two changes racing cannot both win.
  const changed = await deps.db
    .update(users)
    .set({ passwordHash })
    .where(and(eq(users.id, userId), eq(users.passwordHash, user.passwordHash)))
    .returning({ id: users.id });
  if (changed.length === 0)
    throw invalidInput('the password was changed meanwhile: try again', { code: 'wrong_password' });
  await deps.db
    .update(passwordResets)
    .set({ revokedAt: Date.now() })
    .where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt), isNull(passwordResets.revokedAt)));
  const endedSessions = await endAllSessions(deps, userId, { except: currentSessionId, reason: 'password_changed' });
  return { endedSessions };
}
