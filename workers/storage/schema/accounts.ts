import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { ROLES, type Permission } from '../../core/access';
import { createdAt } from './columns';
import { workspaces } from './registry';

/* ── Users, sessions and workspace membership ─────────────────────────────────────────── */

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  /** Lower-cased at registration so one address is one account. */
  email: text('email').notNull().unique(),
  name: text('name').notNull().default(''),
  /**
   * `scrypt$ln=14,r=8,p=5$<salt>$<hash>` (or `pbkdf2-sha256$<iterations>$…` from before scrypt):
   * self-describing, so an older scheme or cost is recognised and re-hashed at login.
   */
  passwordHash: text('password_hash').notNull(),
  personalWorkspaceId: text('personal_workspace_id')
    .notNull()
    .references(() => workspaces.id),
  createdAt: createdAt(),
});

/** Why a session ended: signed out, a stolen refresh token, or the password changed or was reset. */
export const SESSION_END_REASONS = [
  'logout',
  'refresh_token_reuse',
  'ended_by_user',
  'password_changed',
  'password_reset',
] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

/** One login: the family of refresh tokens that rotate from it, and what access tokens name in `sid`. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    revokedAt: integer('revoked_at'),
    revokedReason: text('revoked_reason', { enum: SESSION_END_REASONS }),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/** Only the SHA-256 of a refresh token is stored; `usedAt` marks it rotated (a second use is theft). */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id),
    createdAt: createdAt(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('refresh_tokens_session').on(t.sessionId)],
);

export const memberships = sqliteTable(
  'memberships',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.userId] }), index('memberships_user').on(t.userId)],
);

export const invitations = sqliteTable(
  'invitations',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    email: text('email').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    invitedBy: text('invited_by').notNull(),
    createdAt: createdAt(),
    expiresAt: integer('expires_at').notNull(),
    acceptedAt: integer('accepted_at'),
    acceptedBy: text('accepted_by'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('invitations_workspace').on(t.workspaceId, t.createdAt)],
);

/**
 * One-time password reset tokens, issued by a workspace owner or the platform administrator for
 * a user (there is no e-mail): only the SHA-256 is stored; a token works once, until it expires,
 * and issuing another for the same user revokes it.
 */
export const passwordResets = sqliteTable(
  'password_resets',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    tokenHash: text('token_hash').notNull().unique(),
    /** Who issued it: the admin, or the owner's user id. */
    issuedBy: text('issued_by').notNull(),
    /** The workspace whose owner issued it; null for the platform administrator. */
    workspaceId: text('workspace_id'),
    createdAt: createdAt(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('password_resets_user').on(t.userId)],
);

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    name: text('name').notNull(),
    /** The first characters of the secret, shown in lists so a key can be recognised. */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole secret: enough for 256 random bits, and one lookup per request. */
    keyHash: text('key_hash').notNull().unique(),
    scopes: text('scopes', { mode: 'json' }).$type<Permission[]>().notNull(),
    createdBy: text('created_by').notNull(),
    /**
     * Who the key acts for: the user who made it (or whose key made it), or `admin` for the
     * platform administrator. The key works only while that user is a member of its workspace,
     * with no more than the user's role allows.
     */
    ownerId: text('owner_id'),
    createdAt: createdAt(),
    expiresAt: integer('expires_at'),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('api_keys_workspace').on(t.workspaceId, t.createdAt)],
);

/** Append-only record of changes; the integer id orders it and pages it. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: text('workspace_id').notNull(),
    actorKind: text('actor_kind', { enum: ['admin', 'user', 'api_key', 'system'] }).notNull(),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default({}),
    requestId: text('request_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('audit_log_workspace').on(t.workspaceId, t.id)],
);
