import { and, count, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Permission } from '../core/access';
import { conflict, invalidInput, notFound, permissionDenied } from '../core/errors';
import { newId } from '../core/ids';
import type { Db } from '../storage/db';
import { newestFirst, pageOf, type Page } from '../storage/paging';
import { apiKeys, memberships, workspaces } from '../storage/schema';
import type { Principal } from './principal';
import type { AccessWriteDeps } from './deps';
import { API_KEY_PREFIX, SECRET_SHAPE, newSecret, sha256Hex } from './secrets';

/*
 * API keys: `mfk_` and 43 base64url characters. The secret is returned once, at creation;
 * D1 holds its SHA-256 and the first characters (the prefix) so people can tell keys apart.
 */

export type ApiKey = Omit<typeof apiKeys.$inferSelect, 'keyHash'>;

const PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/** last_used_at is written at most this often per key, so busy keys cost no write per call. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const visible = ({ keyHash: _, ...key }: typeof apiKeys.$inferSelect): ApiKey => key;

/** Keys that still work: not revoked, not expired. */
const live = (workspaceId: string, now: number) =>
  and(
    eq(apiKeys.workspaceId, workspaceId),
    isNull(apiKeys.revokedAt),
    or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
  );

export async function createApiKey(
  db: Db,
  principal: Principal,
  input: { name: string; scopes: Permission[]; expiresAt?: number },
  maxLiveKeys: number,
): Promise<{ key: ApiKey; secret: string }> {
  const beyond = input.scopes.filter((s) => !principal.permissions.has(s));
  if (beyond.length > 0) {
    throw permissionDenied(`a key cannot have scopes its creator lacks: ${beyond.join(', ')}`, {
      code: 'scope_not_held',
    });
  }
  const now = Date.now();
  if (input.expiresAt !== undefined && input.expiresAt <= now) {
    throw invalidInput("request body 'expires_at': must be in the future");
  }
  const [held] = await db.select({ n: count() }).from(apiKeys).where(live(principal.workspaceId, now));
  if ((held?.n ?? 0) >= maxLiveKeys) {
    throw conflict(
      `this workspace holds ${held!.n} live API keys, the most it may (MAX_API_KEYS_PER_WORKSPACE): revoke one first`,
      { code: 'key_limit_reached' },
    );
  }
  const secret = newSecret(API_KEY_PREFIX);
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: newId('key'),
      workspaceId: principal.workspaceId,
      name: input.name,
      prefix: secret.slice(0, PREFIX_LENGTH),
      keyHash: await sha256Hex(secret),
      scopes: [...new Set(input.scopes)],
      createdBy: principal.id,
      // A key made by a key acts for the same person as its maker.
      ownerId: principal.kind === 'api_key' ? principal.ownerId : principal.id,
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
    })
    .returning();
  return { key: visible(row!), secret };
}

export async function listApiKeys(
  db: Db,
  workspaceId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<ApiKey>> {
  const { after, orderBy } = newestFirst(apiKeys.createdAt, apiKeys.id, query.cursor);
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.workspaceId, workspaceId), after))
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  return pageOf(rows.map(visible), query.limit, (k) => [k.createdAt, k.id]);
}

export async function getApiKey(db: Db, workspaceId: string, id: string): Promise<ApiKey> {
  const row = await db.query.apiKeys.findFirst({
    where: and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id)),
  });
  if (!row) throw notFound(`API key '${id}' not found`, { code: 'api_key_not_found' });
  return visible(row);
}

/** Revoking twice is harmless: the first revocation time is kept. */
export async function revokeApiKey(deps: AccessWriteDeps, workspaceId: string, id: string): Promise<ApiKey> {
  const key = await getApiKey(deps.db, workspaceId, id);
  if (key.revokedAt !== null) return key;
  const [row] = await deps.db.update(apiKeys).set({ revokedAt: Date.now() }).where(eq(apiKeys.id, id)).returning();
  deps.changes.accessChanged();
  return visible(row!);
}

const KEY_SHAPE = SECRET_SHAPE(API_KEY_PREFIX);

/** Whether a bearer token is shaped like an API key; no other token is looked up. */
export const isApiKeyShaped = (token: string): boolean => KEY_SHAPE.test(token);

/**
 * The key stored under `keyHash`, with its workspace's limits and its owner's role there (null
 * when the owner is no longer a member), in one query; undefined when there is no such key.
 */
export async function findApiKey(db: Db, keyHash: string) {
  const [found] = await db
    .select({ key: apiKeys, workspace: workspaces, ownerRole: memberships.role })
    .from(apiKeys)
    .innerJoin(workspaces, eq(workspaces.id, apiKeys.workspaceId))
    .leftJoin(
      memberships,
      and(eq(memberships.workspaceId, apiKeys.workspaceId), eq(memberships.userId, apiKeys.ownerId)),
    )
    .where(eq(apiKeys.keyHash, keyHash));
  return found;
}

/** Records use unless it was recorded less than a minute ago (checked again in the write). */
export function recordKeyUse(db: Db, key: ApiKey, now: number): Promise<unknown> | undefined {
  if (key.lastUsedAt !== null && now - key.lastUsedAt < LAST_USED_RESOLUTION_MS) return undefined;
  return db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(apiKeys.id, key.id),
        or(isNull(apiKeys.lastUsedAt), lte(apiKeys.lastUsedAt, now - LAST_USED_RESOLUTION_MS)),
      ),
    );
}

/** The workspace of the key with this hash, as a subquery (none when no key has it). */
export const workspaceOfKeyHash = (keyHash: string): SQL =>
  sql`(select ${apiKeys.workspaceId} from ${apiKeys} where ${apiKeys.keyHash} = ${keyHash})`;
