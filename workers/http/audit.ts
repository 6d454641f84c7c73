import type { Context } from 'hono';
import { recordAudit, type AuditEvent } from '../audit/audit-log';
import type { AppEnv } from './app-env';

/** Records a change the caller just made, with the request id that made it. */
export function audit(c: Context<AppEnv>, event: AuditEvent): Promise<void> {
  return recordAudit(c.get('deps').db, c.get('principal'), c.get('requestId'), event);
}
