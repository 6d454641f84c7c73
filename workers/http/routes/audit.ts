import { z } from '@hono/zod-openapi';
import { listAudit } from '../../audit/audit-log';
import { defineRoute } from '../route';
import { presentAudit } from '../presenters/access';
import { newRouter } from '../router';
import { AuditList } from '../schemas/audit';
import { PageQuery, jsonContent } from '../schemas/common';

export const auditRoutes = newRouter().openapi(
  defineRoute(
    { access: 'admin', budget: 'management', body: 'none' },
    {
      method: 'get',
      path: '/v1/audit-log',
      tags: ['Workspaces'],
      summary: 'Read the audit log',
      description:
        'Changes made in the current workspace, newest first: who (actor), what (action and target), when, and the request id. Registry, alias, API key, membership, invitation and workspace changes are recorded. Needs the `admin` permission.',
      request: {
        query: PageQuery.extend({
          action: z
            .string()
            .regex(/^[a-z_]+\.[a-z_]+$/)
            .optional()
            .openapi({ description: 'Only this action', example: 'alias.set' }),
        }),
      },
      responses: { 200: jsonContent(AuditList, 'A page of entries') },
    },
  ),
  async (c) => {
    const page = await listAudit(c.get('deps').db, c.get('principal').workspaceId, c.req.valid('query'));
    return c.json({ entries: page.items.map(presentAudit), next_cursor: page.nextCursor }, 200);
  },
);
