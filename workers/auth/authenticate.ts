import { and, eq } from 'drizzle-orm';
import { notFound, permissionDenied, unauthenticated } from '../core/errors';
import type { Config } from '../core/config';
import type { Db } from '../storage/db';
import { memberships, sessions, users, workspaces } from '../storage/schema';
import { accessChanges } from '../core/change-events';
import { TtlCache } from '../core/ttl-cache';
import { findApiKey, isApiKeyShaped, recordKeyUse } from './api-keys';
import { digestMatches } from './constant-time';
import { verifyAccessToken } from './jwt';
import type { Role } from '../core/access';
import { DEFAULT_WORKSPACE_ID, type Permission, type Principal, type WorkspaceLimits } from './principal';
import { allPermissions, permissionsOf } from './roles';
import { API_KEY_PREFIX, hexOf, sha256 } from './secrets';

/*
 * One bearer header carries three kinds of credential, told apart by shape: the admin key
 * (compared in constant time, first), API keys (`mfk_…`) and access tokens (JWTs).
 * 401: no credential, or one that is malformed, unknown, expired or revoked.
 * 404: a workspace the credential cannot act in, as if it did not exist.
 */

export interface AuthenticateDeps {
  db: Db;
  config: Config;
  adminKey: string | undefined;
  /** Runs work after the response (ctx.waitUntil) so bookkeeping never slows a request. */
  defer: (task: Promise<unknown>) => void;
}

export interface Credentials {
  authorization: string | undefined;
  /** The workspace named by the Modelflare-Workspace header, already validated. */
  workspaceId: string | undefined;
}

/** Bearer token from an Authorization header, or undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('malformed Authorization header: expected "Bearer <token>"');
  return match[1];
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const NO_LIMITS: WorkspaceLimits = { prediction: null, management: null, windowSeconds: null };

type WorkspaceRow = typeof workspaces.$inferSelect;

const limitsOf = (w: WorkspaceRow): WorkspaceLimits => ({
  prediction: w.predictionLimit,
  management: w.managementLimit,
  windowSeconds: w.rateWindowSeconds,
});

export const workspaceNotFound = (id: string) =>
  notFound(`workspace '${id}' not found`, { code: 'workspace_not_found' });

/*
 * What D1 says about a live credential is kept per isolate for CREDENTIAL_CACHE_TTL_SECONDS, so
 * a warm prediction asks D1 nothing (at the edge D1 may be a continent away). Revoking a key,
 * ending a session, changing a role or a workspace's limits clears this isolate's entries at
 * once; other isolates see the change within the TTL. Refusals are never kept.
 */
type FoundKey = NonNullable<Awaited<ReturnType<typeof findApiKey>>>;
const liveKeys = new TtlCache<FoundKey>(4096);
const liveSessions = new TtlCache<{ role: Role; workspace: WorkspaceRow }>(4096);
accessChanges.on(() => {
  liveKeys.clear();
  liveSessions.clear();
});

const ttlOf = (config: Config) => config.CREDENTIAL_CACHE_TTL_SECONDS * 1000;

/** Resolves the caller and the workspace it acts in. */
export async function authenticate(deps: AuthenticateDeps, credentials: Credentials): Promise<Principal> {
  const token = bearerToken(credentials.authorization);
  if (!token) throw unauthenticated('missing credential: send "Authorization: Bearer <token>"');
  // One digest serves the admin comparison and, for an API key, the lookup of its stored hash.
  const digest = await sha256(token);
  if (deps.adminKey && (await digestMatches(digest, deps.adminKey))) return asAdmin(deps, credentials.workspaceId);
  if (token.startsWith(API_KEY_PREFIX)) return asApiKey(deps, token, digest, credentials.workspaceId);
  if (JWT_SHAPE.test(token)) return asUser(deps, token, credentials.workspaceId);
  throw unauthenticated('invalid credential');
}

/** The admin is not rate limited, so its workspace is looked up only to check one it names. */
async function asAdmin(deps: AuthenticateDeps, requested: string | undefined): Promise<Principal> {
  if (requested !== undefined) {
    const workspace = await deps.db.query.workspaces.findFirst({ where: eq(workspaces.id, requested) });
    if (!workspace) throw workspaceNotFound(requested);
  }
  const workspaceId = requested ?? DEFAULT_WORKSPACE_ID;
  return { kind: 'admin', id: 'admin', workspaceId, permissions: allPermissions(), limits: NO_LIMITS };
}

function liveKey(deps: AuthenticateDeps, keyHash: string): Promise<FoundKey> {
  return liveKeys.get(keyHash, ttlOf(deps.config), async () => {
    const found = await findApiKey(deps.db, keyHash);
    if (!found) throw unauthenticated('invalid credential');
    if (found.key.revokedAt !== null) throw unauthenticated('this API key has been revoked', { code: 'key_revoked' });
    return found;
  });
}

async function asApiKey(
  deps: AuthenticateDeps,
  token: string,
  digest: ArrayBuffer,
  requested: string | undefined,
): Promise<Principal> {
  if (!isApiKeyShaped(token)) throw unauthenticated('invalid credential');
  const { key, workspace } = await liveKey(deps, hexOf(digest));
  const now = Date.now();
  if (key.expiresAt !== null && key.expiresAt <= now) {
    throw unauthenticated('this API key has expired', { code: 'key_expired' });
  }
  if (requested !== undefined && requested !== key.workspaceId) throw workspaceNotFound(requested);
  const touch = recordKeyUse(deps.db, key, now);
  if (touch) {
    // The kept row would otherwise ask for the write again on every request.
    key.lastUsedAt = now;
    deps.defer(touch);
  }
  return {
    kind: 'api_key',
    id: key.id,
    workspaceId: key.workspaceId,
    permissions: new Set<Permission>(key.scopes),
    limits: limitsOf(workspace),
  };
}

/** One query checks the session is live and finds the role in the requested workspace. */
async function asUser(deps: AuthenticateDeps, token: string, requested: string | undefined): Promise<Principal> {
  const claims = await verifyAccessToken(deps.config, token);
  const { role, workspace } = await liveSessions.get(
    `${claims.sessionId}\0${claims.userId}\0${requested ?? ''}`,
    ttlOf(deps.config),
    () => sessionAccess(deps.db, claims, requested),
  );
  return {
    kind: 'user',
    id: claims.userId,
    sessionId: claims.sessionId,
    workspaceId: workspace.id,
    role,
    permissions: permissionsOf(role),
    limits: limitsOf(workspace),
  };
}

async function sessionAccess(
  db: Db,
  claims: { sessionId: string; userId: string },
  requested: string | undefined,
): Promise<{ role: Role; workspace: WorkspaceRow }> {
  const [row] = await db
    .select({ revokedAt: sessions.revokedAt, role: memberships.role, workspace: workspaces })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(
      memberships,
      and(eq(memberships.userId, users.id), eq(memberships.workspaceId, requested ?? users.personalWorkspaceId)),
    )
    .leftJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(sessions.id, claims.sessionId), eq(sessions.userId, claims.userId)));
  if (!row || row.revokedAt !== null) {
    throw unauthenticated('this session has ended: sign in again', { code: 'session_ended' });
  }
  if (!row.role || !row.workspace) {
    if (requested) throw workspaceNotFound(requested);
    throw notFound('you are no longer a member of your personal workspace; name one with Modelflare-Workspace', {
      code: 'workspace_not_found',
    });
  }
  return { role: row.role, workspace: row.workspace };
}

/** Refuses (403) a principal that lacks the permission a route needs. */
export function authorize(principal: Principal, permission: Permission): void {
  if (!principal.permissions.has(permission)) {
    const who = principal.kind === 'user' ? `your role in this workspace (${principal.role})` : 'this credential';
    throw permissionDenied(`${who} lacks the '${permission}' permission`);
  }
}

/** Refuses (403) callers other than signed-in users, for routes about one's own account. */
export function requireUser(principal: Principal): asserts principal is Extract<Principal, { kind: 'user' }> {
  if (principal.kind !== 'user') {
    throw permissionDenied('only a signed-in user can do this (not an API key or the admin key)', {
      code: 'user_only',
    });
  }
}
