import type { Context } from 'hono';
import type { Scope } from '../registry/types';
import type { AppEnv } from './app-env';

/** The workspace and actor of the authenticated caller. */
export function scopeOf(c: Context<AppEnv>): Scope {
  const principal = c.get('principal');
  return { workspaceId: principal.workspaceId, actorId: principal.id };
}
