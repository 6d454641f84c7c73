import { z } from '@hono/zod-openapi';
import { PERMISSIONS, ROLES } from '../../core/access';
import { Timestamp } from './common';
import * as ex from './examples';

/** Addresses are compared lower-cased: one address, one account. */
export const Email = z
  .email({ error: 'expected an e-mail address' })
  .max(254)
  .transform((e) => e.toLowerCase())
  .openapi({ example: 'ada@example.com', type: 'string', format: 'email' });

export const RegisterBody = z
  .object({
    email: Email,
    password: z
      .string()
      .min(10, { error: 'passwords have at least 10 characters' })
      .max(256)
      .openapi({ example: 'correct horse battery staple' }),
    name: z.string().trim().min(1).max(100).optional().openapi({ example: 'Ada Lovelace' }),
  })
  .strict()
  .openapi('Register', { example: ex.REGISTER });

export const LoginBody = z
  .object({ email: Email, password: z.string().min(1).max(256) })
  .strict()
  .openapi('Login', { example: { email: ex.REGISTER.email, password: ex.REGISTER.password } });

export const RefreshBody = z
  .object({ refresh_token: z.string().min(1).max(256) })
  .strict()
  .openapi('Refresh', { example: { refresh_token: ex.TOKEN_SET.refresh_token } });

export const LogoutBody = z
  .object({
    all: z.boolean().optional().openapi({ description: 'End every session of this user, not only this one' }),
  })
  .strict()
  .openapi('Logout', { example: { all: false } });

export const TokenSet = z
  .object({
    access_token: z.string().openapi({ description: 'JWT for `Authorization: Bearer`' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds the access token is valid', example: 900 }),
    refresh_token: z.string().openapi({
      description: 'Single use: trade it at POST /v1/auth/refresh for a new pair. Using it twice ends the session.',
    }),
    refresh_expires_in: z.number().int(),
    user_id: z.string().openapi({ example: 'usr_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f' }),
  })
  .openapi('TokenSet', { example: ex.TOKEN_SET });

export const Registered = TokenSet.extend({
  workspace_id: z.string().openapi({ description: 'The personal workspace created for the user' }),
}).openapi('Registered', { example: { ...ex.TOKEN_SET, workspace_id: ex.ME.workspace_id } });

export const Permission = z.enum(PERMISSIONS).openapi('Permission');
export const Role = z.enum(ROLES).openapi('Role');

export const Me = z
  .object({
    kind: z.enum(['admin', 'user', 'api_key']),
    id: z.string(),
    workspace_id: z.string(),
    role: Role.nullable().openapi({ description: "A user's role in the workspace; null for keys and the admin" }),
    permissions: z.array(Permission),
    email: z.string().nullable(),
    name: z.string().nullable(),
    created_at: Timestamp.nullable(),
    limits: z
      .object({
        max_model_bytes: z.number().int().openapi({ description: 'Largest ONNX file a version may have' }),
        max_upload_bytes: z.number().int().openapi({ description: 'Largest JSONL upload (POST /v1/uploads)' }),
        max_json_body_bytes: z.number().int().openapi({ description: 'Largest JSON request body' }),
        max_predict_body_bytes: z.number().int().openapi({ description: 'Largest prediction request body' }),
      })
      .openapi({
        description: 'The server’s body limits, so that a client can refuse a file that is too large before sending it',
      }),
  })
  .openapi('Me', { example: ex.ME });

export const Jwks = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal('OKP'),
        crv: z.literal('Ed25519'),
        x: z.string().openapi({ description: 'The public key, base64url' }),
        kid: z.string().openapi({ description: 'Its RFC 7638 thumbprint: the `kid` of the tokens it signed' }),
        alg: z.literal('EdDSA'),
        use: z.literal('sig'),
      }),
    ),
  })
  .openapi('Jwks', { example: ex.JWKS });

const NewPassword = z
  .string()
  .min(10, { error: 'passwords have at least 10 characters' })
  .max(256)
  .openapi({ example: 'a longer horse battery staple' });

export const ChangePasswordBody = z
  .object({ current_password: z.string().min(1).max(256), new_password: NewPassword })
  .strict()
  .openapi('ChangePassword', {
    example: { current_password: 'correct horse battery staple', new_password: 'a longer horse battery staple' },
  });

export const PasswordChanged = z
  .object({ ended_sessions: z.number().int().openapi({ description: 'Other sessions of yours that ended' }) })
  .openapi('PasswordChanged', { example: { ended_sessions: 2 } });

export const UserSession = z
  .object({
    id: z.string().openapi({ example: 'ses_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f' }),
    created_at: Timestamp,
    last_active_at: Timestamp.openapi({ description: 'The last sign-in or refresh' }),
    expires_at: Timestamp.openapi({ description: 'When it ends unless refreshed' }),
    current: z.boolean().openapi({ description: 'The session of the token asking' }),
  })
  .openapi('UserSession');

export const UserSessionList = z.object({ sessions: z.array(UserSession) }).openapi('UserSessionList', {
  example: {
    sessions: [
      {
        id: 'ses_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
        created_at: '2026-11-26T12:00:00.000Z',
        last_active_at: '2026-11-26T12:30:00.000Z',
        expires_at: '2026-12-26T12:30:00.000Z',
        current: true,
      },
    ],
  },
});

export const IssuedReset = z
  .object({
    id: z.string(),
    user_id: z.string(),
    token: z.string().openapi({ description: 'Hand it to the user: shown this once, works once, for an hour' }),
    expires_at: Timestamp,
  })
  .openapi('PasswordResetIssued', {
    example: {
      id: 'pwr_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
      user_id: 'usr_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
      token: 'mfp_Qm9vayBvZiBKb2IgZm9yIHRoZSBleGFtcGxlIG9ubHkgISEhIQ',
      expires_at: '2026-11-26T13:00:00.000Z',
    },
  });

export const RedeemResetBody = z
  .object({ token: z.string().min(1).max(256), new_password: NewPassword })
  .strict()
  .openapi('RedeemPasswordReset', {
    example: {
      token: 'mfp_Qm9vayBvZiBKb2IgZm9yIHRoZSBleGFtcGxlIG9ubHkgISEhIQ',
      new_password: 'a longer horse battery staple',
    },
  });
