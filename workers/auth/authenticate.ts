import { permissionDenied, unauthenticated } from '../core/errors';
import type { Env } from '../core/env';
import { secretsEqual } from './constant-time';
import { DEFAULT_WORKSPACE_ID, PERMISSIONS, type Permission, type Principal } from './principal';

/** Bearer token from an Authorization header, or undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('malformed Authorization header: expected "Bearer <token>"');
  return match[1];
}

const ALL: ReadonlySet<Permission> = new Set(PERMISSIONS);

/** Resolves the caller from its credential; every failure is unauthenticated (401). */
export async function authenticate(env: Env, authorization: string | undefined): Promise<Principal> {
  const token = bearerToken(authorization);
  if (!token) throw unauthenticated('missing credential: send "Authorization: Bearer <token>"');
  if (env.ADMIN_API_KEY && (await secretsEqual(token, env.ADMIN_API_KEY))) {
    return { kind: 'admin', id: 'admin', workspaceId: DEFAULT_WORKSPACE_ID, permissions: ALL };
  }
  throw unauthenticated('invalid credential');
}

/** Refuses (403) a principal that lacks the permission a route needs. */
export function authorize(principal: Principal, permission: Permission): void {
  if (!principal.permissions.has(permission)) {
    throw permissionDenied(`this credential lacks the '${permission}' permission`);
  }
}
