import type { Context } from 'hono';
import { recordAudit, type AuditEvent } from '../audit/audit-log';
import { afterCommit } from '../core/after-commit';
import type { AppEnv } from './app-env';

/**
 * Records a change the caller just made, with the request id that made it. The change has
 * happened: a failing audit write is retried after the response, never answered as an error.
 */
export function audit(c: Context<AppEnv>, event: AuditEvent): Promise<void> {
  const deps = c.get('deps');
  return afterCommit(deps, `audit entry ${event.action}`, () =>
    recordAudit(deps.db, c.get('principal'), c.get('requestId'), event),
  );
}
