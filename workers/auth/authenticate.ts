import { unauthenticated } from '../core/errors';
import type { Env } from '../core/env';
import { secretsEqual } from './constant-time';
import { DEFAULT_WORKSPACE_ID, type Principal } from './principal';

/** Bearer token from an Authorization header, or undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('malformed Authorization header: expected "Bearer <token>"');
  return match[1];
}

/** Resolves the caller from its credential; every failure is unauthenticated (401). */
export async function authenticate(env: Env, authorization: string | undefined): Promise<Principal> {
  const token = bearerToken(authorization);
  if (!token) throw unauthenticated('missing credential: send "Authorization: Bearer <token>"');
  if (env.ADMIN_API_KEY && (await secretsEqual(token, env.ADMIN_API_KEY))) {
    return { kind: 'admin', id: 'admin', workspaceId: DEFAULT_WORKSPACE_ID };
  }
  throw unauthenticated('invalid credential');
}
