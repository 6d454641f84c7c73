import { and, eq, ne, or, sql } from 'drizzle-orm';
import type { Principal, Role } from '../auth/principal';
import type { AccessWriteDeps } from '../auth/deps';
import { conflict, notFound } from '../core/errors';
import type { Db } from '../storage/db';
import { newestFirst, pageOf, type Page } from '../storage/paging';
import { memberships, users } from '../storage/schema';
import { requireOwnerFor } from './roles';

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: number;
}

const memberColumns = {
  userId: memberships.userId,
  email: users.email,
  name: users.name,
  role: memberships.role,
  joinedAt: memberships.createdAt,
};

export async function listMembers(
  db: Db,
  workspaceId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<Member>> {
  const { after, orderBy } = newestFirst(memberships.createdAt, memberships.userId, query.cursor);
  const rows = await db
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.workspaceId, workspaceId), after))
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  return pageOf(rows, query.limit, (m) => [m.joinedAt, m.userId]);
}

export async function getMember(db: Db, workspaceId: string, userId: string): Promise<Member> {
  const [member] = await db
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  if (!member) throw notFound(`no member '${userId}' in this workspace`, { code: 'member_not_found' });
  return member;
}

/*
 * The owner count is checked inside the statement that changes the row, so two owners
 * demoting each other at the same moment cannot leave the workspace without one.
 */
const memberIfAnOwnerRemains = (workspaceId: string, userId: string) =>
  and(
    eq(memberships.workspaceId, workspaceId),
    eq(memberships.userId, userId),
    or(
      ne(memberships.role, 'owner'),
      sql`(select count(*) from memberships m where m.workspace_id = ${workspaceId} and m.role = 'owner') > 1`,
    ),
  );

const lastOwner = () =>
  conflict('a workspace needs at least one owner: make someone else owner first', { code: 'last_owner' });

export async function changeRole(
  deps: AccessWriteDeps,
  principal: Principal,
  userId: string,
  role: Role,
): Promise<Member> {
  const member = await getMember(deps.db, principal.workspaceId, userId);
  requireOwnerFor(principal, member.role, role);
  if (member.role === role) return member;
  const updated = await deps.db
    .update(memberships)
    .set({ role })
    .where(memberIfAnOwnerRemains(principal.workspaceId, userId))
    .returning();
  if (updated.length === 0) throw lastOwner();
  deps.changes.accessChanged();
  return { ...member, role };
}

export async function removeMember(deps: AccessWriteDeps, principal: Principal, userId: string): Promise<Member> {
  const member = await getMember(deps.db, principal.workspaceId, userId);
  requireOwnerFor(principal, member.role);
  const removed = await deps.db
    .delete(memberships)
    .where(memberIfAnOwnerRemains(principal.workspaceId, userId))
    .returning();
  if (removed.length === 0) throw lastOwner();
  deps.changes.accessChanged();
  return member;
}
