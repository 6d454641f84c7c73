import { and, eq } from 'drizzle-orm';
import { conflict, unauthenticated } from '../core/errors';
import { newId } from '../core/ids';
import { isUniqueViolation } from '../storage/db';
import { memberships, users, workspaces } from '../storage/schema';
import type { AuthDeps } from './deps';
import { requireAccounts } from './jwt';
import { UNUSABLE_PASSWORD_HASH, hashPassword, checkPassword } from './passwords';
import { openSession, tokensFor, type Tokens } from './sessions';

export type UserRow = typeof users.$inferSelect;

const emailTaken = () => conflict('an account with this e-mail address already exists', { code: 'email_taken' });

/**
 * Creates the user, their personal workspace (they own it) and a first session, in one batch:
 * either all of it exists afterwards or none of it.
 */
export async function register(
  deps: AuthDeps,
  input: { email: string; password: string; name?: string },
): Promise<Tokens & { workspaceId: string }> {
  requireAccounts(deps.config);
  const existing = await deps.db.query.users.findFirst({ where: eq(users.email, input.email) });
  if (existing) throw emailTaken();
  const passwordHash = await hashPassword(input.password);
  const now = Date.now();
  const userId = newId('usr');
  const workspaceId = newId('ws');
  const session = await openSession(deps, userId);
  try {
    await deps.db.batch([
      deps.db
        .insert(workspaces)
        .values({ id: workspaceId, name: `${input.name || input.email} (personal)`, personal: true, createdAt: now }),
      deps.db.insert(users).values({
        id: userId,
        email: input.email,
        name: input.name ?? '',
        passwordHash,
        personalWorkspaceId: workspaceId,
        createdAt: now,
      }),
      deps.db.insert(memberships).values({ workspaceId, userId, role: 'owner', createdAt: now }),
      ...session.statements,
    ]);
  } catch (err) {
    if (isUniqueViolation(err, 'users.email')) throw emailTaken();
    throw err;
  }
  return { ...(await tokensFor(deps, userId, session.sessionId, session.refreshToken)), workspaceId };
}

/** One answer for an unknown address and a wrong password, after the same amount of work. */
export async function login(deps: AuthDeps, input: { email: string; password: string }): Promise<Tokens> {
  requireAccounts(deps.config);
  const user = await deps.db.query.users.findFirst({ where: eq(users.email, input.email) });
  const check = await checkPassword(input.password, user?.passwordHash ?? UNUSABLE_PASSWORD_HASH);
  if (!user || !check.ok) {
    throw unauthenticated('invalid e-mail address or password', { code: 'invalid_credentials' });
  }
  if (check.needsRehash) await upgradeHash(deps, user, input.password);
  const session = await openSession(deps, user.id);
  await deps.db.batch(session.statements);
  return tokensFor(deps, user.id, session.sessionId, session.refreshToken);
}

/**
 * Replaces a hash of an older scheme or cost with the current one, now that the password is
 * known. Conditional on the old hash, so a password changed meanwhile is never overwritten.
 */
async function upgradeHash(deps: AuthDeps, user: UserRow, password: string): Promise<void> {
  await deps.db
    .update(users)
    .set({ passwordHash: await hashPassword(password) })
    .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash)));
}

export async function getUser(deps: Pick<AuthDeps, 'db'>, userId: string): Promise<UserRow | undefined> {
  return deps.db.query.users.findFirst({ where: eq(users.id, userId) });
}
