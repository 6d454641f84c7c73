import { z } from '@hono/zod-openapi';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from '../../auth/api-keys';
import { audit } from '../audit';
import { defineRoute } from '../route';
import { presentApiKey } from '../presenters/access';
import { newRouter } from '../router';
import { ApiKey, ApiKeyList, CreateApiKeyBody, CreatedApiKey } from '../schemas/api-keys';
import { PageQuery, ResourceId, jsonContent } from '../schemas/common';

const IdParam = z.object({ id: ResourceId('key', 'id') });

export const apiKeyRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'json', errors: [409] },
      {
        method: 'post',
        path: '/v1/api-keys',
        tags: ['API keys'],
        summary: 'Create an API key',
        description:
          'Creates a key for the current workspace with the given scopes (at most those of the caller) and an optional expiry. The secret (`key`) is in this answer only: the server keeps its SHA-256. Needs the `admin` permission.',
        request: { body: { required: true, content: { 'application/json': { schema: CreateApiKeyBody } } } },
        responses: { 201: jsonContent(CreatedApiKey, 'The key and its secret') },
      },
    ),
    async (c) => {
      const body = c.req.valid('json');
      const deps = c.get('deps');
      const { key, secret } = await createApiKey(
        deps.db,
        c.get('principal'),
        {
          name: body.name,
          scopes: body.scopes,
          expiresAt: body.expires_at === undefined ? undefined : Date.parse(body.expires_at),
        },
        deps.config.MAX_API_KEYS_PER_WORKSPACE,
      );
      await audit(c, {
        action: 'api_key.create',
        target: `api_key:${key.id}`,
        details: { name: key.name, scopes: key.scopes, expires_at: body.expires_at ?? null },
      });
      return c.json({ ...presentApiKey(key), key: secret }, 201);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/api-keys',
        tags: ['API keys'],
        summary: 'List API keys',
        description:
          'Keys of the current workspace, newest first, revoked ones included. Secrets are never shown again.',
        request: { query: PageQuery },
        responses: { 200: jsonContent(ApiKeyList, 'A page of keys') },
      },
    ),
    async (c) => {
      const page = await listApiKeys(c.get('deps').db, c.get('principal').workspaceId, c.req.valid('query'));
      return c.json({ api_keys: page.items.map(presentApiKey), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/api-keys/{id}',
        tags: ['API keys'],
        summary: 'Get an API key',
        description: 'One key of the current workspace, with when it was last used.',
        request: { params: IdParam },
        responses: { 200: jsonContent(ApiKey, 'The key') },
      },
    ),
    async (c) => {
      const key = await getApiKey(c.get('deps').db, c.get('principal').workspaceId, c.req.valid('param').id);
      return c.json(presentApiKey(key), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'delete',
        path: '/v1/api-keys/{id}',
        tags: ['API keys'],
        summary: 'Revoke an API key',
        description: 'The key stops working at once (401 `key_revoked`). It stays listed, with `revoked_at`.',
        request: { params: IdParam },
        responses: { 200: jsonContent(ApiKey, 'The revoked key') },
      },
    ),
    async (c) => {
      const key = await revokeApiKey(c.get('deps'), c.get('principal').workspaceId, c.req.valid('param').id);
      await audit(c, { action: 'api_key.revoke', target: `api_key:${key.id}`, details: { name: key.name } });
      return c.json(presentApiKey(key), 200);
    },
  );
