import { createWorkspace, currentWorkspace, listWorkspaces, updateWorkspace } from '../../workspaces/workspaces';
import { audit } from '../audit';
import { defineRoute } from '../route';
import { presentWorkspace } from '../presenters/access';
import { newRouter } from '../router';
import { PageQuery, jsonContent } from '../schemas/common';
import { CreateWorkspaceBody, UpdateWorkspaceBody, Workspace, WorkspaceList } from '../schemas/workspaces';

export const workspaceRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/workspaces',
        tags: ['Workspaces'],
        summary: 'List workspaces',
        description:
          'The workspaces the caller can act in, newest first: a user’s memberships with their role, an API key’s own workspace, every workspace for the admin. Act in one by sending its id in the `Modelflare-Workspace` header.',
        request: { query: PageQuery },
        responses: { 200: jsonContent(WorkspaceList, 'A page of workspaces') },
      },
    ),
    async (c) => {
      const page = await listWorkspaces(c.get('deps').db, c.get('principal'), c.req.valid('query'));
      return c.json({ workspaces: page.items.map(presentWorkspace), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'json', errors: [403] },
      {
        method: 'post',
        path: '/v1/workspaces',
        tags: ['Workspaces'],
        summary: 'Create a workspace',
        description: 'Creates a team workspace; a user who creates one is its owner. API keys cannot (403).',
        request: { body: { required: true, content: { 'application/json': { schema: CreateWorkspaceBody } } } },
        responses: { 201: jsonContent(Workspace, 'The new workspace') },
      },
    ),
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
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/workspace',
        tags: ['Workspaces'],
        summary: 'Get the current workspace',
        description: 'The workspace this request acts in, the caller’s role there and its rate limits.',
        responses: { 200: jsonContent(Workspace, 'The workspace') },
      },
    ),
    async (c) => c.json(presentWorkspace(await currentWorkspace(c.get('deps').db, c.get('principal'))), 200),
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'json', errors: [404] },
      {
        method: 'patch',
        path: '/v1/workspace',
        tags: ['Workspaces'],
        summary: 'Update the current workspace',
        description:
          'Renames the workspace (`admin` permission). Rate limits (`null` restores the platform default) are set by the platform administrator only.',
        request: { body: { required: true, content: { 'application/json': { schema: UpdateWorkspaceBody } } } },
        responses: { 200: jsonContent(Workspace, 'The updated workspace') },
      },
    ),
    async (c) => {
      const body = c.req.valid('json');
      const limits = body.rate_limits && {
        prediction: body.rate_limits.prediction,
        management: body.rate_limits.management,
        windowSeconds: body.rate_limits.window_seconds,
      };
      const workspace = await updateWorkspace(c.get('deps'), c.get('principal'), { name: body.name, limits });
      await audit(c, { action: 'workspace.update', target: `workspace:${workspace.id}`, details: body });
      return c.json(presentWorkspace(workspace), 200);
    },
  );
