import type { z } from '@hono/zod-openapi';
import type { ApiKey } from '../../auth/api-keys';
import type { Tokens } from '../../auth/sessions';
import type { AuditEntry } from '../../audit/audit-log';
import type { Invitation } from '../../workspaces/invitations';
import type { Member } from '../../workspaces/members';
import type { Workspace } from '../../workspaces/workspaces';
import { iso } from '../schemas/common';
import type { ApiKey as ApiKeySchema } from '../schemas/api-keys';
import type { AuditEntry as AuditSchema } from '../schemas/audit';
import type { TokenSet } from '../schemas/auth';
import type {
  Invitation as InvitationSchema,
  Member as MemberSchema,
  Workspace as WorkspaceSchema,
} from '../schemas/workspaces';

export const presentTokens = (t: Tokens): z.infer<typeof TokenSet> => ({
  access_token: t.accessToken,
  token_type: 'Bearer',
  expires_in: t.expiresIn,
  refresh_token: t.refreshToken,
  refresh_expires_in: t.refreshExpiresIn,
  user_id: t.userId,
});

export const presentApiKey = (k: ApiKey): z.infer<typeof ApiKeySchema> => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  created_by: k.createdBy,
  owner_id: k.ownerId,
  created_at: iso(k.createdAt)!,
  expires_at: iso(k.expiresAt),
  revoked_at: iso(k.revokedAt),
  last_used_at: iso(k.lastUsedAt),
});

export const presentWorkspace = (w: Workspace): z.infer<typeof WorkspaceSchema> => ({
  id: w.id,
  name: w.name,
  personal: w.personal,
  role: w.role,
  rate_limits: { prediction: w.predictionLimit, management: w.managementLimit, window_seconds: w.rateWindowSeconds },
  created_at: iso(w.createdAt)!,
});

export const presentMember = (m: Member): z.infer<typeof MemberSchema> => ({
  user_id: m.userId,
  email: m.email,
  name: m.name,
  role: m.role,
  joined_at: iso(m.joinedAt)!,
});

export const presentInvitation = (i: Invitation): z.infer<typeof InvitationSchema> => ({
  id: i.id,
  workspace_id: i.workspaceId,
  email: i.email,
  role: i.role,
  status: i.status,
  invited_by: i.invitedBy,
  created_at: iso(i.createdAt)!,
  expires_at: iso(i.expiresAt)!,
  accepted_at: iso(i.acceptedAt),
  accepted_by: i.acceptedBy,
  revoked_at: iso(i.revokedAt),
});

export const presentAudit = (e: AuditEntry): z.infer<typeof AuditSchema> => ({
  id: e.id,
  action: e.action,
  target: e.target,
  actor: { kind: e.actorKind, id: e.actorId },
  details: e.details,
  request_id: e.requestId,
  created_at: iso(e.createdAt)!,
});
