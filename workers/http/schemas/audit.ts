import { z } from '@hono/zod-openapi';
import { Timestamp } from './common';
import * as ex from './examples';

export const AuditEntry = z
  .object({
    id: z.number().int(),
    action: z.string().openapi({ example: 'alias.set' }),
    target: z.string().openapi({ example: 'model:iris/alias:production' }),
    actor: z.object({
      kind: z.enum(['admin', 'user', 'api_key', 'system']),
      id: z.string().openapi({ example: 'usr_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f' }),
    }),
    details: z.record(z.string(), z.unknown()),
    request_id: z.string(),
    created_at: Timestamp,
  })
  .openapi('AuditEntry', { example: ex.AUDIT_ENTRY });

export const AuditList = z
  .object({ entries: z.array(AuditEntry), next_cursor: z.string().nullable() })
  .openapi('AuditList', { example: { entries: [ex.AUDIT_ENTRY], next_cursor: null } });
