import { z } from '@hono/zod-openapi';
import { requireUser } from '../../auth/authenticate';
import { acceptInvitation, createInvitation, listInvitations, revokeInvitation } from '../../workspaces/invitations';
import { audit } from '../audit';
import { defineRoute } from '../route';
import { presentInvitation } from '../presenters/access';
import { newRouter } from '../router';
import { PageQuery, ResourceId, jsonContent } from '../schemas/common';
import {
  AcceptInvitationBody,
  CreateInvitationBody,
  CreatedInvitation,
  Invitation,
  InvitationList,
} from '../schemas/workspaces';

const IdParam = z.object({ id: ResourceId('inv', 'id') });

export const invitationRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'json', errors: [409] },
      {
        method: 'post',
        path: '/v1/invitations',
        tags: ['Workspaces'],
        summary: 'Invite someone',
        description:
          'Invites an e-mail address into the current workspace with a role, for 7 days. The answer holds the invitation `token` (shown once): give it to the invitee. Needs the `admin` permission; only owners invite owners.',
        request: { body: { required: true, content: { 'application/json': { schema: CreateInvitationBody } } } },
        responses: {
          201: jsonContent(CreatedInvitation, 'The invitation and its token'),
        },
      },
    ),
    async (c) => {
      const { invitation, token } = await createInvitation(c.get('deps').db, c.get('principal'), c.req.valid('json'));
      await audit(c, {
        action: 'invitation.create',
        target: `invitation:${invitation.id}`,
        details: { email: invitation.email, role: invitation.role },
      });
      return c.json({ ...presentInvitation(invitation), token }, 201);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/invitations',
        tags: ['Workspaces'],
        summary: 'List invitations',
        description:
          'Invitations of the current workspace with their status, newest first. Needs the `admin` permission.',
        request: { query: PageQuery },
        responses: { 200: jsonContent(InvitationList, 'A page of invitations') },
      },
    ),
    async (c) => {
      const page = await listInvitations(c.get('deps').db, c.get('principal').workspaceId, c.req.valid('query'));
      return c.json({ invitations: page.items.map(presentInvitation), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404, 409] },
      {
        method: 'delete',
        path: '/v1/invitations/{id}',
        tags: ['Workspaces'],
        summary: 'Revoke an invitation',
        description: 'Its token stops working. An accepted invitation cannot be revoked (409): remove the member.',
        request: { params: IdParam },
        responses: { 200: jsonContent(Invitation, 'The revoked invitation') },
      },
    ),
    async (c) => {
      const invitation = await revokeInvitation(
        c.get('deps').db,
        c.get('principal').workspaceId,
        c.req.valid('param').id,
      );
      await audit(c, {
        action: 'invitation.revoke',
        target: `invitation:${invitation.id}`,
        details: { email: invitation.email },
      });
      return c.json(presentInvitation(invitation), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'json', errors: [403, 404, 409] },
      {
        method: 'post',
        path: '/v1/invitations/accept',
        tags: ['Workspaces'],
        summary: 'Accept an invitation',
        description:
          'The signed-in user joins the inviting workspace with the invited role. Needs the token and an account with the invited e-mail address (403 otherwise); an unknown, expired, revoked or used token answers 404.',
        request: { body: { required: true, content: { 'application/json': { schema: AcceptInvitationBody } } } },
        responses: {
          200: jsonContent(Invitation, 'The accepted invitation'),
        },
      },
    ),
    async (c) => {
      const principal = c.get('principal');
      requireUser(principal);
      const invitation = await acceptInvitation(c.get('deps').db, principal, c.req.valid('json').token);
      await audit(c, {
        action: 'member.add',
        target: `user:${principal.id}`,
        details: { role: invitation.role, invitation: invitation.id },
        workspaceId: invitation.workspaceId,
      });
      return c.json(presentInvitation(invitation), 200);
    },
  );
