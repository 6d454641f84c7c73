import { and, eq } from 'drizzle-orm';
import { notFound, permissionDenied, unauthenticated } from '../core/errors';
import type { Config } from '../core/config';
import type { Db } from '../storage/db';
import { memberships, sessions, users, workspaces } from '../storage/schema';
import { findApiKey, recordKeyUse } from './api-keys';
import { secretsEqual } from './constant-time';
import { verifyAccessToken } from './jwt';
import { DEFAULT_WORKSPACE_ID, type Permission, type Principal, type WorkspaceLimits } from './principal';
import { allPermissions, permissionsOf } from './roles';
import { API_KEY_PREFIX } from './secrets';

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

const limitsOf = (w: typeof workspaces.$inferSelect): WorkspaceLimits => ({
  prediction: w.predictionLimit,
  management: w.managementLimit,
  windowSeconds: w.rateWindowSeconds,
});

export const workspaceNotFound = (id: string) =>
  notFound(`workspace '${id}' not found`, { code: 'workspace_not_found' });

/** Resolves the caller and the workspace it acts in. */
export async function authenticate(deps: AuthenticateDeps, credentials: Credentials): Promise<Principal> {
  const token = bearerToken(credentials.authorization);
  if (!token) throw unauthenticated('missing credential: send "Authorization: Bearer <token>"');
  if (deps.adminKey && (await secretsEqual(token, deps.adminKey))) return asAdmin(deps, credentials.workspaceId);
  if (token.startsWith(API_KEY_PREFIX)) return asApiKey(deps, token, credentials.workspaceId);
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

async function asApiKey(deps: AuthenticateDeps, token: string, requested: string | undefined): Promise<Principal> {
  const found = await findApiKey(deps.db, token);
  if (!found) throw unauthenticated('invalid credential');
  const { key, workspace } = found;
  const now = Date.now();
  if (key.revokedAt !== null) throw unauthenticated('this API key has been revoked', { code: 'key_revoked' });
  if (key.expiresAt !== null && key.expiresAt <= now) {
    throw unauthenticated('this API key has expired', { code: 'key_expired' });
  }
  if (requested !== undefined && requested !== key.workspaceId) throw workspaceNotFound(requested);
  const touch = recordKeyUse(deps.db, key, now);
  if (touch) deps.defer(touch);
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
  const [row] = await deps.db
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
  return {
    kind: 'user',
    id: claims.userId,
    sessionId: claims.sessionId,
    workspaceId: row.workspace.id,
    role: row.role,
    permissions: permissionsOf(row.role),
    limits: limitsOf(row.workspace),
  };
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
