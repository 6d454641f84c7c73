import { and, desc, eq, lt } from 'drizzle-orm';
import type { Principal } from '../auth/principal';
import { decodeCursor, encodeCursor } from '../core/cursor';
import type { Db } from '../storage/db';
import type { Page } from '../storage/paging';
import { auditLog } from '../storage/schema';

/*
 * Who changed what, when, and in which request: registry, alias, API key, membership and
 * workspace changes. Entries are written after the change succeeds and never edited.
 */

export type AuditEntry = typeof auditLog.$inferSelect;

export interface AuditEvent {
  action: string;
  /** What was changed, as `kind:name` (`model:iris`, `api_key:key_…`, `user:usr_…`). */
  target: string;
  details?: Record<string, unknown>;
  /** Defaults to the workspace the actor is acting in. */
  workspaceId?: string;
}

/** Who acted: a caller, or the platform itself (`system`: a rollout's guard or steps). */
export type AuditActor = Pick<Principal, 'id' | 'workspaceId'> & { kind: Principal['kind'] | 'system' };

export async function recordAudit(db: Db, actor: AuditActor, requestId: string, event: AuditEvent): Promise<void> {
  await db.insert(auditLog).values({
    workspaceId: event.workspaceId ?? actor.workspaceId,
    actorKind: actor.kind,
    actorId: actor.id,
    action: event.action,
    target: event.target,
    details: event.details ?? {},
    requestId,
    createdAt: Date.now(),
  });
}

/** Newest first. */
export async function listAudit(
  db: Db,
  workspaceId: string,
  query: { limit: number; cursor?: string; action?: string },
): Promise<Page<AuditEntry>> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.workspaceId, workspaceId),
        query.action ? eq(auditLog.action, query.action) : undefined,
        query.cursor ? lt(auditLog.id, decodeCursor<number>(query.cursor, 'number')) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit);
  return { items, nextCursor: rows.length > query.limit ? encodeCursor(items[items.length - 1]!.id) : null };
}

/** How far back `auditOf` reads through a workspace's entries, at most. */
export const AUDIT_LOOKBACK_ENTRIES = 1000;
const LOOKBACK_PAGE = 200;

/**
 * One target's entries since `since`, oldest first. The log is indexed by workspace and id
 * only, so this reads back through the workspace's newest entries, a page at a time, and stops
 * at `since` or after AUDIT_LOOKBACK_ENTRIES (a busy workspace's older entries are left out,
 * never scanned).
 */
export async function auditOf(
  db: Db,
  workspaceId: string,
  target: string,
  since: number,
  actions: readonly string[],
): Promise<AuditEntry[]> {
  const found: AuditEntry[] = [];
  let before: number | undefined;
  for (let read = 0; read < AUDIT_LOOKBACK_ENTRIES; read += LOOKBACK_PAGE) {
    const page = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspaceId), before === undefined ? undefined : lt(auditLog.id, before)))
      .orderBy(desc(auditLog.id))
      .limit(LOOKBACK_PAGE);
    for (const entry of page) {
      if (entry.target === target && entry.createdAt >= since && actions.includes(entry.action)) found.push(entry);
    }
    const oldest = page[page.length - 1];
    if (!oldest || page.length < LOOKBACK_PAGE || oldest.createdAt < since) break;
    before = oldest.id;
  }
  return found.reverse();
}
