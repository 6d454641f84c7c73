import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Principal, Role, UserPrincipal } from '../auth/principal';
import { INVITATION_PREFIX, SECRET_SHAPE, newSecret, sha256Hex } from '../auth/secrets';
import { conflict, notFound, permissionDenied } from '../core/errors';
import { newId } from '../core/ids';
import type { Db } from '../storage/db';
import { newestFirst, pageOf, type Page } from '../storage/paging';
import { invitations, memberships, users } from '../storage/schema';
import { requireOwnerFor } from './roles';

/*
 * An invitation is a secret token for one e-mail address and role, shown once to whoever
 * invites; they pass it on. Accepting needs the token and an account with that address.
 */

const INVITATION_TTL_MS = 7 * 86400 * 1000;

type InvitationRow = typeof invitations.$inferSelect;
export type Invitation = Omit<InvitationRow, 'tokenHash'> & { status: InvitationStatus };
export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

function statusOf(row: Omit<InvitationRow, 'tokenHash'>, now = Date.now()): InvitationStatus {
  if (row.acceptedAt !== null) return 'accepted';
  if (row.revokedAt !== null) return 'revoked';
  return row.expiresAt <= now ? 'expired' : 'pending';
}

const visible = ({ tokenHash: _, ...row }: InvitationRow): Invitation => ({ ...row, status: statusOf(row) });

const alreadyMember = (email: string) =>
  conflict(`${email} is already a member of this workspace`, { code: 'already_member' });

export async function createInvitation(
  db: Db,
  principal: Principal,
  input: { email: string; role: Role },
): Promise<{ invitation: Invitation; token: string }> {
  requireOwnerFor(principal, input.role);
  const workspaceId = principal.workspaceId;
  const now = Date.now();
  const [member] = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.workspaceId, workspaceId), eq(users.email, input.email)));
  if (member) throw alreadyMember(input.email);
  const pending = await db.query.invitations.findFirst({
    where: and(
      eq(invitations.workspaceId, workspaceId),
      eq(invitations.email, input.email),
      isNull(invitations.acceptedAt),
      isNull(invitations.revokedAt),
      gt(invitations.expiresAt, now),
    ),
  });
  if (pending) {
    throw conflict(`${input.email} already has a pending invitation (${pending.id}); revoke it to send a new one`, {
      code: 'invitation_pending',
      details: { invitation: pending.id },
    });
  }
  const token = newSecret(INVITATION_PREFIX);
  const [row] = await db
    .insert(invitations)
    .values({
      id: newId('inv'),
      workspaceId,
      email: input.email,
      role: input.role,
      tokenHash: await sha256Hex(token),
      invitedBy: principal.id,
      createdAt: now,
      expiresAt: now + INVITATION_TTL_MS,
    })
    .returning();
  return { invitation: visible(row!), token };
}

export async function listInvitations(
  db: Db,
  workspaceId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<Invitation>> {
  const { after, orderBy } = newestFirst(invitations.createdAt, invitations.id, query.cursor);
  const rows = await db
    .select()
    .from(invitations)
    .where(and(eq(invitations.workspaceId, workspaceId), after))
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  return pageOf(rows.map(visible), query.limit, (i) => [i.createdAt, i.id]);
}

export async function revokeInvitation(db: Db, workspaceId: string, id: string): Promise<Invitation> {
  const row = await db.query.invitations.findFirst({
    where: and(eq(invitations.workspaceId, workspaceId), eq(invitations.id, id)),
  });
  if (!row) throw notFound(`invitation '${id}' not found`, { code: 'invitation_not_found' });
  if (row.acceptedAt !== null) {
    throw conflict('this invitation was already accepted; remove the member instead', {
      code: 'invitation_accepted',
    });
  }
  if (row.revokedAt !== null) return visible(row);
  const [updated] = await db
    .update(invitations)
    .set({ revokedAt: Date.now() })
    .where(eq(invitations.id, id))
    .returning();
  return visible(updated!);
}

/** Makes the signed-in user a member of the inviting workspace. */
export async function acceptInvitation(db: Db, principal: UserPrincipal, token: string): Promise<Invitation> {
  const gone = () => notFound('invitation not found, or no longer valid', { code: 'invitation_not_found' });
  if (!SECRET_SHAPE(INVITATION_PREFIX).test(token)) throw gone();
  const row = await db.query.invitations.findFirst({ where: eq(invitations.tokenHash, await sha256Hex(token)) });
  if (!row || statusOf(row) !== 'pending') throw gone();
  const user = await db.query.users.findFirst({ where: eq(users.id, principal.id) });
  if (user?.email !== row.email) {
    throw permissionDenied('this invitation is for another e-mail address', { code: 'invitation_email_mismatch' });
  }
  const existing = await db.query.memberships.findFirst({
    where: and(eq(memberships.workspaceId, row.workspaceId), eq(memberships.userId, principal.id)),
  });
  if (existing) throw alreadyMember(row.email);
  const now = Date.now();
  // Claim and join in one batch; the membership is inserted only if this call's claim took,
  // so an invitation revoked or accepted a moment ago adds no one.
  const [claimed] = await db.batch([
    db
      .update(invitations)
      .set({ acceptedAt: now, acceptedBy: principal.id })
      .where(and(eq(invitations.id, row.id), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
      .returning(),
    db.insert(memberships).select(
      db
        .select({
          workspaceId: invitations.workspaceId,
          userId: sql<string>`${principal.id}`.as('user_id'),
          role: invitations.role,
          createdAt: sql<number>`${now}`.as('created_at'),
        })
        .from(invitations)
        .where(
          and(eq(invitations.id, row.id), eq(invitations.acceptedBy, principal.id), eq(invitations.acceptedAt, now)),
        ),
    ),
  ]);
  if (claimed.length === 0) throw gone();
  return visible(claimed[0]!);
}
