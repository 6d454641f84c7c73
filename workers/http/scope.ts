import type { Context } from 'hono';
import type { AuthDeps } from '../auth/deps';
import type { Scope } from '../registry/types';
import type { AppEnv } from './app-env';

/** The workspace and actor of the authenticated caller. */
export function scopeOf(c: Context<AppEnv>): Scope {
  const principal = c.get('principal');
  return { workspaceId: principal.workspaceId, actorId: principal.id };
}

/** What the account and key services need from the request. */
export function authDeps(c: Context<AppEnv>): AuthDeps {
  return { db: c.get('deps').db, config: c.get('config') };
}
