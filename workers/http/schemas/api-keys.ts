import { z } from '@hono/zod-openapi';
import { Timestamp } from './common';
import { Permission } from './auth';
import * as ex from './examples';

export const CreateApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(64).openapi({ example: 'batch scorer' }),
    scopes: z
      .array(Permission)
      .min(1)
      .openapi({ example: ['models:read', 'predict'], description: 'What the key may do' }),
    expires_at: z.iso
      .datetime({ offset: true, error: 'expected a date-time such as 2027-01-31T00:00:00Z' })
      .optional()
      .openapi({ description: 'When the key stops working; never when absent' }),
  })
  .strict()
  .openapi('CreateApiKey', { example: ex.CREATE_API_KEY });

export const ApiKey = z
  .object({
    id: z.string().openapi({ example: 'key_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f' }),
    name: z.string(),
    prefix: z.string().openapi({ example: 'mfk_Ab3dE9xY', description: 'The first characters of the secret' }),
    scopes: z.array(Permission),
    created_by: z.string().openapi({ description: 'Who made it: a user, a key, or `admin`' }),
    owner_id: z.string().nullable().openapi({
      description:
        'Who the key acts for: the user who made it (or whose key did), or `admin`. It works only while that user is a member here, with no more than their role allows.',
    }),
    created_at: Timestamp,
    expires_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
    last_used_at: Timestamp.nullable().openapi({ description: 'Recorded at most once a minute' }),
  })
  .openapi('ApiKey', { example: ex.API_KEY });

export const CreatedApiKey = ApiKey.extend({
  key: z.string().openapi({ description: 'The secret. Shown this once: only its hash is stored.' }),
}).openapi('CreatedApiKey', { example: { ...ex.API_KEY, key: ex.API_KEY_SECRET } });

export const ApiKeyList = z
  .object({ api_keys: z.array(ApiKey), next_cursor: z.string().nullable() })
  .openapi('ApiKeyList', { example: { api_keys: [ex.API_KEY], next_cursor: null } });
