import { z } from '@hono/zod-openapi';
import { Email, Role } from './auth';
import { Timestamp } from './common';
import * as ex from './examples';

const LimitValue = z.number().int().min(1).max(1_000_000).nullable();

export const RateLimits = z
  .object({
    prediction: LimitValue.openapi({ description: 'Prediction requests per window per key or user', example: 600 }),
    management: LimitValue.openapi({ description: 'Other requests per window per key or user', example: 120 }),
    window_seconds: z.number().int().min(1).max(86400).nullable().openapi({ example: 60 }),
  })
  .openapi('RateLimits', { example: ex.RATE_LIMITS, description: 'null: the platform default' });

export const Workspace = z
  .object({
    id: z.string().openapi({ example: 'ws_default' }),
    name: z.string(),
    personal: z.boolean(),
    role: Role.nullable().openapi({ description: "The caller's role; null for API keys and the admin" }),
    rate_limits: RateLimits,
    created_at: Timestamp,
  })
  .openapi('Workspace', { example: ex.WORKSPACE_EXAMPLE });

export const WorkspaceList = z
  .object({ workspaces: z.array(Workspace), next_cursor: z.string().nullable() })
  .openapi('WorkspaceList', { example: { workspaces: [ex.WORKSPACE_EXAMPLE], next_cursor: null } });

export const WorkspaceName = z.string().trim().min(1).max(100).openapi({ example: 'fraud team' });

export const CreateWorkspaceBody = z
  .object({ name: WorkspaceName })
  .strict()
  .openapi('CreateWorkspace', { example: { name: 'fraud team' } });

export const UpdateWorkspaceBody = z
  .object({
    name: WorkspaceName.optional(),
    rate_limits: RateLimits.partial().strict().optional().openapi({ description: 'Platform administrator only' }),
  })
  .strict()
  .openapi('UpdateWorkspace', { example: { name: 'fraud team', rate_limits: ex.RATE_LIMITS } });

export const Member = z
  .object({
    user_id: z.string(),
    email: z.string(),
    name: z.string(),
    role: Role,
    joined_at: Timestamp,
  })
  .openapi('Member', { example: ex.MEMBER });

export const MemberList = z
  .object({ members: z.array(Member), next_cursor: z.string().nullable() })
  .openapi('MemberList', { example: { members: [ex.MEMBER], next_cursor: null } });

export const ChangeRoleBody = z
  .object({ role: Role })
  .strict()
  .openapi('ChangeRole', { example: { role: 'viewer' } });

export const Invitation = z
  .object({
    id: z.string().openapi({ example: 'inv_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f' }),
    workspace_id: z.string(),
    email: z.string(),
    role: Role,
    status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
    invited_by: z.string(),
    created_at: Timestamp,
    expires_at: Timestamp,
    accepted_at: Timestamp.nullable(),
    accepted_by: z.string().nullable(),
    revoked_at: Timestamp.nullable(),
  })
  .openapi('Invitation', { example: ex.INVITATION });

export const CreatedInvitation = Invitation.extend({
  token: z.string().openapi({
    description: 'Give it to the invitee; they accept with POST /v1/invitations/accept. Shown this once.',
  }),
}).openapi('CreatedInvitation', { example: { ...ex.INVITATION, token: ex.INVITATION_TOKEN } });

export const InvitationList = z
  .object({ invitations: z.array(Invitation), next_cursor: z.string().nullable() })
  .openapi('InvitationList', { example: { invitations: [ex.INVITATION], next_cursor: null } });

export const CreateInvitationBody = z
  .object({ email: Email, role: Role.default('member') })
  .strict()
  .openapi('CreateInvitation', { example: { email: 'grace@example.com', role: 'member' } });

export const AcceptInvitationBody = z
  .object({ token: z.string().min(1).max(256) })
  .strict()
  .openapi('AcceptInvitation', { example: { token: ex.INVITATION_TOKEN } });
