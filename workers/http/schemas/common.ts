import { z } from '@hono/zod-openapi';
import { ALIAS_RULE, NAME_PATTERN, NAME_RULE, isAliasName } from '../../registry/names';
import * as ex from './examples';

export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'model_not_found' }),
      message: z.string().openapi({ example: "model 'iris' not found" }),
      request_id: z.string().openapi({ example: 'req_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f' }),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi('Error', { example: ex.ERROR });

/** The Open Inference Protocol's error body. */
export const V2Error = z
  .object({ error: z.string().openapi({ example: "model 'iris' not found" }) })
  .openapi('V2Error', { example: { error: ex.V2_ERRORS[404]! } });

export const ModelName = z
  .string()
  .regex(NAME_PATTERN, { error: `invalid model name: ${NAME_RULE}` })
  .openapi({ example: 'iris', description: NAME_RULE });

export const AliasName = z
  .string()
  .refine(isAliasName, { error: `invalid alias: ${ALIAS_RULE}` })
  .openapi({ example: 'production', description: ALIAS_RULE });

export const VersionRef = z
  .string()
  .regex(/^(\d{1,9}|[a-z0-9][a-z0-9._-]{0,63})$/, {
    error: `invalid version: a version number, "latest" or an alias (${NAME_RULE})`,
  })
  .openapi({ example: '1', description: 'A version number, `latest`, or an alias such as `production`' });

export const Limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .default(20)
  .openapi({ description: 'Page size, 1 to 100', example: 20 });

export const Cursor = z.string().max(512).optional().openapi({ description: 'next_cursor of the previous page' });

export const BooleanQuery = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true');

export const TagMap = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'tag keys use letters, digits, _ . : - (1 to 64)' }),
    z.string().max(256),
  )
  .refine((tags) => Object.keys(tags).length <= 50, { error: 'at most 50 tags' })
  .openapi({ example: { team: 'fraud', framework: 'sklearn' } });

export const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-26T12:00:00.000Z' });

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The errors a route documents; every route can also meet a store outage, so 503 is always listed. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    [...new Set([...statuses, 503])].map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        content: {
          'application/json': {
            schema: ErrorEnvelope,
            example: { error: { ...(ex.ERRORS[status] ?? ex.ERROR.error), request_id: ex.ERROR.error.request_id } },
          },
        },
      },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; the message names the field and the rule',
  401: 'No credential, or one that is malformed, unknown, expired or revoked',
  403: 'The credential is valid but its role or scopes do not allow this',
  404: 'No such resource in this workspace (resources of other workspaces answer the same)',
  409: 'The request conflicts with the current state',
  411: 'The body must declare its Content-Length',
  413: 'The body is larger than this route accepts',
  415: 'The body has a content type this route does not accept',
  422: 'The uploaded file is not a model that can be served',
  429: 'Rate limit exceeded; see Retry-After and the RateLimit-* headers',
  503: 'A store did not answer (`storage_unavailable`, with Retry-After), or the server is not configured for this',
};

/** Names the workspace to act in, for callers who can act in several. */
export const WORKSPACE_HEADER = 'Modelflare-Workspace';

export const WorkspaceId = z
  .string()
  .regex(/^ws_[A-Za-z0-9_-]{1,64}$/)
  .openapi({ example: 'ws_default', description: 'A workspace id' });

/** Ids the server made (`key_…`, `usr_…`, `inv_…`), as path parameters. */
export const ResourceId = (prefix: string, name: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[A-Za-z0-9]{1,64}$`), { error: `expected an id starting with ${prefix}_` })
    .openapi({ param: { name, in: 'path' }, example: `${prefix}_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f` });

export const PageQuery = z.object({ limit: Limit, cursor: Cursor });

/** OpenAPI security requirement of every route that needs a credential. */
export const BEARER = [{ Bearer: [] }];

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
