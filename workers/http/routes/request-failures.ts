import { z } from '@hono/zod-openapi';
import { listFailures, type FailureRow } from '../../monitoring/failures';
import { requireModel } from '../../registry/models';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { Cursor, Limit, ModelName, iso, jsonContent } from '../schemas/common';
import { RequestFailure, RequestFailureList } from '../schemas/monitoring';

/*
 * The latest failing requests, as their callers were answered: per model for anyone who may
 * read the model, and the whole workspace's (messages of account and key routes included) for
 * its admins. A sample under bursts (monitoring/failures.ts); the counts are in /stats.
 */

const NameParam = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' } }) });

const present = (f: FailureRow): z.infer<typeof RequestFailure> => ({
  id: f.id,
  request_id: f.requestId,
  method: f.method,
  route: f.route,
  status: f.status,
  code: f.code,
  message: f.message,
  model: f.model,
  version: f.version,
  created_at: iso(f.createdAt)!,
});

export const requestFailureRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/errors',
        tags: ['Monitoring'],
        summary: 'Latest failing requests of a model',
        description:
          'Requests on the model’s routes that were answered with an error, newest first: request id, route, status, code and message. Under a burst a sample is kept (the newest 20 per isolate every few seconds); /stats counts them all.',
        request: { params: NameParam, query: z.object({ limit: Limit, cursor: Cursor }) },
        responses: { 200: jsonContent(RequestFailureList, 'A page of failed requests') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      const deps = c.get('deps');
      await requireModel(deps, scopeOf(c), name);
      await deps.failures.flush(deps.db);
      const page = await listFailures(deps.db, scopeOf(c), { ...q, model: name });
      return c.json({ errors: page.items.map(present), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/errors',
        tags: ['Monitoring'],
        summary: 'Latest failing requests of the workspace',
        description:
          'Every route’s failed requests in the workspace, newest first (those of one model with `model`). Needs the admin permission: messages of account, member and key routes are listed too.',
        request: { query: z.object({ model: ModelName.optional(), limit: Limit, cursor: Cursor }) },
        responses: { 200: jsonContent(RequestFailureList, 'A page of failed requests') },
      },
    ),
    async (c) => {
      const deps = c.get('deps');
      await deps.failures.flush(deps.db);
      const page = await listFailures(deps.db, scopeOf(c), c.req.valid('query'));
      return c.json({ errors: page.items.map(present), next_cursor: page.nextCursor }, 200);
    },
  );
