import { and, eq } from 'drizzle-orm';
import type { Role } from '../core/access';
import type { Config } from '../core/config';
import { DomainError, notFound, permissionDenied, unauthenticated } from '../core/errors';
import { RefreshingCache, type RefreshPolicy } from '../core/refreshing-cache';
import type { Db } from '../storage/db';
import { memberships, sessions, users, workspaces } from '../storage/schema';
import { findApiKey, isApiKeyShaped, recordKeyUse, type ApiKey } from './api-keys';
import { digestMatches } from './constant-time';
import { verifyAccessToken } from './jwt';
import { DEFAULT_WORKSPACE_ID, type Permission, type Principal, type WorkspaceLimits } from './principal';
import { allPermissions, permissionsOf } from './roles';
import { API_KEY_PREFIX, hexOf, sha256 } from './secrets';

/*
 * One bearer header carries three kinds of credential, told apart by shape: the admin key
 * (compared in constant time, first), API keys (`mfk_…`) and access tokens (JWTs).
 * 401: no credential, or one that is malformed, unknown, expired or revoked.
 * 404: a workspace the credential cannot act in, as if it did not exist.
 *
 * What D1 says about a credential is kept per isolate by the Credentials service and served
 * while it refreshes in the background (core/refreshing-cache.ts), so a warm request asks D1
 * nothing and waits for no hash or signature check. Refusals are never kept.
 */

export interface AuthenticateDeps {
  db: Db;
  config: Config;
  credentials: CredentialCache;
  /** Runs work after the response (ctx.waitUntil) so bookkeeping never slows a request. */
  defer: (task: Promise<unknown>) => void;
  onRefreshError?: (err: unknown) => void;
}

export interface Credentials {
  authorization: string | undefined;
  /** The workspace named by the Modelflare-Workspace header, already validated. */
  workspaceId: string | undefined;
}

/** What a credential grants, and until when. */
interface Grant {
  principal: Principal;
  validUntil: number;
  expired?: () => DomainError;
  key?: ApiKey;
}

/** The isolate's copies of what credentials grant. */
export class CredentialCache {
  readonly grants: RefreshingCache<Grant>;

  constructor(now: () => number = () => Date.now()) {
    this.grants = new RefreshingCache<Grant>(4096, (err) => err instanceof DomainError, now);
  }

  /** A key revoked, a session ended, a role or a limit changed: this isolate forgets them all. */
  forgetAll(): void {
    this.grants.clear();
  }
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

export function refreshPolicy(config: Config): RefreshPolicy {
  return {
    refreshAfterMs: config.CREDENTIAL_CACHE_TTL_SECONDS * 1000,
    staleLimitMs: config.CACHE_STALE_LIMIT_SECONDS * 1000,
  };
}

const grantKey = (token: string, requested: string | undefined) =>
  requested === undefined ? token : `${token}\0${requested}`;

/** Whether this isolate holds, or is already reading, what a credential grants. */
export function credentialKnown(
  deps: Pick<AuthenticateDeps, 'credentials' | 'config'>,
  token: string,
  requested: string | undefined,
): boolean {
  const key = grantKey(token, requested);
  return deps.credentials.grants.holds(key, refreshPolicy(deps.config)) || deps.credentials.grants.reading(key);
}

/** Resolves the caller and the workspace it acts in. */
export async function authenticate(deps: AuthenticateDeps, credentials: Credentials): Promise<Principal> {
  const token = bearerToken(credentials.authorization);
  if (!token) throw unauthenticated('missing credential: send "Authorization: Bearer <token>"');
  const requested = credentials.workspaceId;
  const grant = await deps.credentials.grants.get(
    grantKey(token, requested),
    refreshPolicy(deps.config),
    () => grantFor(deps, token, requested),
    deps,
  );
  const now = Date.now();
  if (grant.validUntil <= now) throw grant.expired!();
  if (grant.key) {
    const touch = recordKeyUse(deps.db, grant.key, now);
    if (touch) {
      // The kept row would otherwise ask for the write again on every request.
      grant.key.lastUsedAt = now;
      deps.defer(touch);
    }
  }
  return grant.principal;
}

async function grantFor(deps: AuthenticateDeps, token: string, requested: string | undefined): Promise<Grant> {
  // One digest serves the admin comparison and, for an API key, the lookup of its stored hash.
  const digest = await sha256(token);
  if (deps.config.ADMIN_API_KEY && (await digestMatches(digest, deps.config.ADMIN_API_KEY))) {
    return asAdmin(deps.db, requested);
  }
  if (token.startsWith(API_KEY_PREFIX)) return asApiKey(deps.db, token, digest, requested);
  if (JWT_SHAPE.test(token)) return asUser(deps, token, requested);
  throw unauthenticated('invalid credential');
}

/** The admin is not rate limited, so its workspace is looked up only to check one it names. */
async function asAdmin(db: Db, requested: string | undefined): Promise<Grant> {
  if (requested !== undefined) {
    const workspace = await db.query.workspaces.findFirst({ where: eq(workspaces.id, requested) });
    if (!workspace) throw workspaceNotFound(requested);
  }
  const workspaceId = requested ?? DEFAULT_WORKSPACE_ID;
  return {
    principal: { kind: 'admin', id: 'admin', workspaceId, permissions: allPermissions(), limits: NO_LIMITS },
    validUntil: Infinity,
  };
}

const keyExpired = () => unauthenticated('this API key has expired', { code: 'key_expired' });

async function asApiKey(db: Db, token: string, digest: ArrayBuffer, requested: string | undefined): Promise<Grant> {
  if (!isApiKeyShaped(token)) throw unauthenticated('invalid credential');
  const found = await findApiKey(db, hexOf(digest));
  if (!found) throw unauthenticated('invalid credential');
  const { key, workspace, ownerRole } = found;
  if (key.revokedAt !== null) throw unauthenticated('this API key has been revoked', { code: 'key_revoked' });
  if (key.expiresAt !== null && key.expiresAt <= Date.now()) throw keyExpired();
  if (requested !== undefined && requested !== key.workspaceId) throw workspaceNotFound(requested);
  return {
    principal: {
      kind: 'api_key',
      id: key.id,
      ownerId: key.ownerId ?? '',
      workspaceId: key.workspaceId,
      permissions: keyPermissions(key, ownerRole),
      limits: limitsOf(workspace),
    },
    validUntil: key.expiresAt ?? Infinity,
    expired: keyExpired,
    key,
  };
}

/**
 * A key is the act of its owner inside one workspace: it may do what its scopes say and the
 * owner's role there still allows; once the owner is no longer a member, nothing. The
 * platform admin's keys keep their scopes.
 */
function keyPermissions(key: { ownerId: string | null; scopes: Permission[] }, ownerRole: Role | null) {
  if (key.ownerId === 'admin') return new Set<Permission>(key.scopes);
  if (ownerRole === null) {
    throw unauthenticated('this API key’s owner is no longer a member of its workspace', {
      code: 'key_owner_removed',
    });
  }
  const allowed = permissionsOf(ownerRole);
  return new Set<Permission>(key.scopes.filter((scope) => allowed.has(scope)));
}

const tokenExpired = () =>
  unauthenticated('access token expired: get a new one from POST /v1/auth/refresh', { code: 'token_expired' });

/** One query checks the session is live and finds the role in the requested workspace. */
async function asUser(deps: AuthenticateDeps, token: string, requested: string | undefined): Promise<Grant> {
  const claims = await verifyAccessToken(deps.config, token);
  const { role, workspace } = await sessionAccess(deps.db, claims, requested);
  return {
    principal: {
      kind: 'user',
      id: claims.userId,
      sessionId: claims.sessionId,
      workspaceId: workspace.id,
      role,
      permissions: permissionsOf(role),
      limits: limitsOf(workspace),
    },
    validUntil: claims.validUntil,
    expired: tokenExpired,
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
