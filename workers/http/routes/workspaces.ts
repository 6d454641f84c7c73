import { createRoute } from '@hono/zod-openapi';
import { createWorkspace, currentWorkspace, listWorkspaces, updateWorkspace } from '../../workspaces/workspaces';
import { audit } from '../audit';
import { requirePermission } from '../middleware/require-auth';
import { presentWorkspace } from '../presenters/access';
import { newRouter } from '../router';
import { BEARER, PageQuery, errorResponses, jsonContent } from '../schemas/common';
import { CreateWorkspaceBody, UpdateWorkspaceBody, Workspace, WorkspaceList } from '../schemas/workspaces';

export const workspaceRoutes = newRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/workspaces',
      tags: ['Workspaces'],
      summary: 'List workspaces',
      description:
        'The workspaces the caller can act in, newest first: a user’s memberships with their role, an API key’s own workspace, every workspace for the admin. Act in one by sending its id in the `Modelflare-Workspace` header.',
      security: BEARER,
      request: { query: PageQuery },
      responses: { 200: jsonContent(WorkspaceList, 'A page of workspaces'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const page = await listWorkspaces(c.get('deps').db, c.get('principal'), c.req.valid('query'));
      return c.json({ workspaces: page.items.map(presentWorkspace), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/workspaces',
      tags: ['Workspaces'],
      summary: 'Create a workspace',
      description: 'Creates a team workspace; a user who creates one is its owner. API keys cannot (403).',
      security: BEARER,
      request: { body: { required: true, content: { 'application/json': { schema: CreateWorkspaceBody } } } },
      responses: { 201: jsonContent(Workspace, 'The new workspace'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const workspace = await createWorkspace(c.get('deps').db, c.get('principal'), c.req.valid('json').name);
      await audit(c, {
        action: 'workspace.create',
        target: `workspace:${workspace.id}`,
        details: { name: workspace.name },
        workspaceId: workspace.id,
      });
      return c.json(presentWorkspace(workspace), 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/workspace',
      tags: ['Workspaces'],
      summary: 'Get the current workspace',
      description: 'The workspace this request acts in, the caller’s role there and its rate limits.',
      security: BEARER,
      responses: { 200: jsonContent(Workspace, 'The workspace'), ...errorResponses(401, 404) },
    }),
    async (c) => c.json(presentWorkspace(await currentWorkspace(c.get('deps').db, c.get('principal'))), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/v1/workspace',
      tags: ['Workspaces'],
      summary: 'Update the current workspace',
      description:
        'Renames the workspace (`admin` permission). Rate limits (`null` restores the platform default) are set by the platform administrator only.',
      security: BEARER,
      middleware: [requirePermission('admin')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: UpdateWorkspaceBody } } } },
      responses: { 200: jsonContent(Workspace, 'The updated workspace'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const limits = body.rate_limits && {
        prediction: body.rate_limits.prediction,
        management: body.rate_limits.management,
        windowSeconds: body.rate_limits.window_seconds,
      };
      const workspace = await updateWorkspace(c.get('deps').db, c.get('principal'), { name: body.name, limits });
      await audit(c, { action: 'workspace.update', target: `workspace:${workspace.id}`, details: body });
      return c.json(presentWorkspace(workspace), 200);
    },
  );
