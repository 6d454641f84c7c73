import { and, eq } from 'drizzle-orm';
import type { Role } from '../core/access';
import type { AccessWriteDeps } from '../auth/deps';
import { permissionDenied } from '../core/errors';
import { newId } from '../core/ids';
import { workspaceNotFound } from '../auth/authenticate';
import type { Principal } from '../auth/principal';
import type { Db } from '../storage/db';
import { newestFirst, pageOf, type Page } from '../storage/paging';
import { memberships, workspaces } from '../storage/schema';

export type WorkspaceRow = typeof workspaces.$inferSelect;
export interface Workspace extends WorkspaceRow {
  /** The caller's role there; null for the platform administrator and for API keys. */
  role: Role | null;
}

/** A team workspace; a user who creates one owns it. */
export async function createWorkspace(db: Db, principal: Principal, name: string): Promise<Workspace> {
  if (principal.kind === 'api_key') {
    throw permissionDenied('API keys belong to one workspace and cannot create others; sign in as a user');
  }
  const now = Date.now();
  const row = { id: newId('ws'), name, personal: false, createdAt: now };
  if (principal.kind === 'user') {
    await db.batch([
      db.insert(workspaces).values(row),
      db.insert(memberships).values({ workspaceId: row.id, userId: principal.id, role: 'owner', createdAt: now }),
    ]);
    return { ...(await requireWorkspace(db, row.id)), role: 'owner' };
  }
  await db.insert(workspaces).values(row);
  return { ...(await requireWorkspace(db, row.id)), role: null };
}

export async function requireWorkspace(db: Db, id: string): Promise<WorkspaceRow> {
  const row = await db.query.workspaces.findFirst({ where: eq(workspaces.id, id) });
  if (!row) throw workspaceNotFound(id);
  return row;
}

/** The workspace the caller is acting in. */
export async function currentWorkspace(db: Db, principal: Principal): Promise<Workspace> {
  const row = await requireWorkspace(db, principal.workspaceId);
  return { ...row, role: principal.kind === 'user' ? principal.role : null };
}

/** Workspaces the caller can act in: a user's memberships, a key's one, all for the admin. */
export async function listWorkspaces(
  db: Db,
  principal: Principal,
  query: { limit: number; cursor?: string },
): Promise<Page<Workspace>> {
  if (principal.kind === 'api_key') {
    return { items: [await currentWorkspace(db, principal)], nextCursor: null };
  }
  if (principal.kind === 'admin') {
    const { after, orderBy } = newestFirst(workspaces.createdAt, workspaces.id, query.cursor);
    const rows = await db
      .select()
      .from(workspaces)
      .where(after)
      .orderBy(...orderBy)
      .limit(query.limit + 1);
    const page = pageOf(rows, query.limit, (w) => [w.createdAt, w.id]);
    return { ...page, items: page.items.map((w) => ({ ...w, role: null })) };
  }
  const { after, orderBy } = newestFirst(memberships.createdAt, workspaces.id, query.cursor);
  const rows = await db
    .select({ workspace: workspaces, role: memberships.role, joinedAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, principal.id), after))
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  const page = pageOf(rows, query.limit, (r) => [r.joinedAt, r.workspace.id]);
  return { ...page, items: page.items.map((r) => ({ ...r.workspace, role: r.role })) };
}

export interface WorkspaceChanges {
  name?: string;
  limits?: { prediction?: number | null; management?: number | null; windowSeconds?: number | null };
}

/**
 * Workspace admins rename; only the platform administrator sets rate limits, since raising
 * them is what the limits exist to prevent.
 */
export async function updateWorkspace(
  deps: AccessWriteDeps,
  principal: Principal,
  changes: WorkspaceChanges,
): Promise<Workspace> {
  if (changes.limits && principal.kind !== 'admin') {
    throw permissionDenied('only the platform administrator can change rate limits', { code: 'admin_only' });
  }
  const set: Partial<WorkspaceRow> = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.limits?.prediction !== undefined) set.predictionLimit = changes.limits.prediction;
  if (changes.limits?.management !== undefined) set.managementLimit = changes.limits.management;
  if (changes.limits?.windowSeconds !== undefined) set.rateWindowSeconds = changes.limits.windowSeconds;
  if (Object.keys(set).length > 0) {
    await deps.db.update(workspaces).set(set).where(eq(workspaces.id, principal.workspaceId));
    deps.changes.accessChanged();
  }
  return currentWorkspace(deps.db, principal);
}
