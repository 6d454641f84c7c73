import { z } from '@hono/zod-openapi';
import { ALIAS_RULE, NAME_PATTERN, NAME_RULE, isAliasName } from '../../registry/names';

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

/**
 * A record whose input may not name `__proto__`: JSON can carry that key, but zod's records skip
 * it (a JavaScript object cannot keep it as data), so it vanished without a word.
 */
export const keptRecord = <T extends z.ZodType>(record: T) =>
  z.preprocess((input, ctx) => {
    if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) {
      ctx.issues.push({ code: 'custom', input, path: ['__proto__'], message: "'__proto__' is not allowed as a key" });
    }
    return input;
  }, record);

export const TagMap = keptRecord(
  z.record(
    z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'tag keys use letters, digits, _ . : - (1 to 64)' }),
    z.string().max(256),
  ),
)
  .refine((tags) => Object.keys(tags).length <= 50, { error: 'at most 50 tags' })
  .openapi({ example: { team: 'fraud', framework: 'sklearn' } });

export const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-26T12:00:00.000Z' });

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

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

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
