import { type z } from '@hono/zod-openapi';
import { getUser, login, register } from '../../auth/accounts';
import { requireUser } from '../../auth/authenticate';
import { publicKeys } from '../../auth/jwt';
import { endAllSessions, endSession, refreshSession } from '../../auth/sessions';
import { presentTokens } from '../presenters/access';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { iso, jsonContent } from '../schemas/common';
import { Jwks, LoginBody, LogoutBody, Me, RefreshBody, RegisterBody, Registered, TokenSet } from '../schemas/auth';

const json = <T>(schema: T, required = true) => ({ required, content: { 'application/json': { schema } } });

export const authRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'public', budget: 'unmetered', body: 'none' },
      {
        method: 'get',
        path: '/.well-known/jwks.json',
        tags: ['Accounts'],
        summary: 'Public keys of access tokens',
        description:
          'The Ed25519 public keys access tokens are signed with (JWT_PRIVATE_KEY) and former ones that still verify (JWT_PREVIOUS_PUBLIC_KEYS), so other services can verify tokens without a secret. Empty when tokens are signed with JWT_SECRET (HS256). No credential needed.',
        responses: { 200: jsonContent(Jwks, 'The key set') },
      },
    ),
    async (c) => {
      c.header('Cache-Control', 'public, max-age=300');
      return c.json({ keys: (await publicKeys(c.get('deps').config)) as z.infer<typeof Jwks>['keys'] }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'public', budget: 'sign-in', body: 'json', errors: [409] },
      {
        method: 'post',
        path: '/v1/auth/register',
        tags: ['Accounts'],
        summary: 'Create an account',
        description:
          'Creates a user with a personal workspace they own, and signs them in. No credential needed. The password is stored as a salted PBKDF2-SHA256 hash.',
        request: { body: json(RegisterBody) },
        responses: { 201: jsonContent(Registered, 'Signed in') },
      },
    ),
    async (c) => {
      const { workspaceId, ...tokens } = await register(c.get('deps'), c.req.valid('json'));
      c.get('access').actor = tokens.userId;
      return c.json({ ...presentTokens(tokens), workspace_id: workspaceId }, 201);
    },
  )
  .openapi(
    defineRoute(
      { access: 'public', budget: 'sign-in', body: 'json', errors: [401] },
      {
        method: 'post',
        path: '/v1/auth/login',
        tags: ['Accounts'],
        summary: 'Sign in',
        description:
          'Trades e-mail and password for an access token (a JWT, valid at most an hour) and a refresh token. A wrong address and a wrong password get the same 401.',
        request: { body: json(LoginBody) },
        responses: { 200: jsonContent(TokenSet, 'Signed in') },
      },
    ),
    async (c) => {
      const tokens = await login(c.get('deps'), c.req.valid('json'));
      c.get('access').actor = tokens.userId;
      return c.json(presentTokens(tokens), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'public', budget: 'sign-in', body: 'json', errors: [401] },
      {
        method: 'post',
        path: '/v1/auth/refresh',
        tags: ['Accounts'],
        summary: 'Refresh the access token',
        description:
          'Trades a refresh token for a new access token and a new refresh token; the old one stops working. Presenting a refresh token that was already used ends the whole session (someone else holds a copy).',
        request: { body: json(RefreshBody) },
        responses: { 200: jsonContent(TokenSet, 'New tokens') },
      },
    ),
    async (c) => {
      const tokens = await refreshSession(c.get('deps'), c.req.valid('json').refresh_token);
      c.get('access').actor = tokens.userId;
      return c.json(presentTokens(tokens), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'json', errors: [403] },
      {
        method: 'post',
        path: '/v1/auth/logout',
        tags: ['Accounts'],
        summary: 'Sign out',
        description:
          'Ends the session of this access token: its refresh tokens and the access token itself stop working at once. With `"all": true`, every session of the user ends.',
        request: { body: json(LogoutBody, false) },
        responses: { 204: { description: 'Signed out' } },
      },
    ),
    async (c) => {
      const principal = c.get('principal');
      requireUser(principal);
      if (c.req.valid('json').all) await endAllSessions(c.get('deps'), principal.id);
      else await endSession(c.get('deps'), principal.sessionId, 'logout');
      return c.body(null, 204);
    },
  )
  .openapi(
    defineRoute(
      { access: 'signed-in', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/me',
        tags: ['Accounts'],
        summary: 'Who am I',
        description:
          'The caller as the server sees it: the kind of credential, the workspace it acts in, the role there and the permissions that follow; and the server’s body limits, so that a client can check a file before sending it.',
        responses: { 200: jsonContent(Me, 'The caller') },
      },
    ),
    async (c) => {
      const principal = c.get('principal');
      const user = principal.kind === 'user' ? await getUser(c.get('deps'), principal.id) : undefined;
      const config = c.get('deps').config;
      return c.json(
        {
          kind: principal.kind,
          id: principal.id,
          workspace_id: principal.workspaceId,
          role: principal.kind === 'user' ? principal.role : null,
          permissions: [...principal.permissions],
          email: user?.email ?? null,
          name: user?.name ?? null,
          created_at: user ? iso(user.createdAt) : null,
          limits: {
            max_model_bytes: config.MAX_MODEL_BYTES,
            max_upload_bytes: config.MAX_UPLOAD_BYTES,
            max_json_body_bytes: config.MAX_JSON_BODY_BYTES,
            max_predict_body_bytes: config.MAX_PREDICT_BODY_BYTES,
          },
        },
        200,
      );
    },
  );
