import { z } from '@hono/zod-openapi';
import { changeRole, listMembers, removeMember } from '../../workspaces/members';
import { audit } from '../audit';
import { defineRoute } from '../route';
import { presentMember } from '../presenters/access';
import { newRouter } from '../router';
import { PageQuery, ResourceId, jsonContent } from '../schemas/common';
import { ChangeRoleBody, Member, MemberList } from '../schemas/workspaces';

const UserParam = z.object({ user_id: ResourceId('usr', 'user_id') });

export const memberRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/members',
        tags: ['Workspaces'],
        summary: 'List members',
        description: 'Members of the current workspace with their roles, newest first. Needs the `admin` permission.',
        request: { query: PageQuery },
        responses: { 200: jsonContent(MemberList, 'A page of members') },
      },
    ),
    async (c) => {
      const page = await listMembers(c.get('deps').db, c.get('principal').workspaceId, c.req.valid('query'));
      return c.json({ members: page.items.map(presentMember), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'json', errors: [404, 409] },
      {
        method: 'patch',
        path: '/v1/members/{user_id}',
        tags: ['Workspaces'],
        summary: 'Change a member’s role',
        description:
          'Roles: `owner` and `admin` may do everything (owners alone make or unmake owners), `member` reads, writes, predicts and runs jobs, `viewer` reads. The last owner cannot be demoted (409).',
        request: {
          params: UserParam,
          body: { required: true, content: { 'application/json': { schema: ChangeRoleBody } } },
        },
        responses: { 200: jsonContent(Member, 'The member') },
      },
    ),
    async (c) => {
      const { user_id } = c.req.valid('param');
      const { role } = c.req.valid('json');
      const member = await changeRole(c.get('deps'), c.get('principal'), user_id, role);
      await audit(c, { action: 'member.update', target: `user:${user_id}`, details: { role } });
      return c.json(presentMember(member), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404, 409] },
      {
        method: 'delete',
        path: '/v1/members/{user_id}',
        tags: ['Workspaces'],
        summary: 'Remove a member',
        description:
          'The user loses access to the workspace at once. Only owners remove owners; the last owner cannot be removed (409).',
        request: { params: UserParam },
        responses: { 204: { description: 'Removed' } },
      },
    ),
    async (c) => {
      const { user_id } = c.req.valid('param');
      const member = await removeMember(c.get('deps'), c.get('principal'), user_id);
      await audit(c, { action: 'member.remove', target: `user:${user_id}`, details: { role: member.role } });
      return c.body(null, 204);
    },
  );
