import { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { invalidInput } from '../core/errors';
import type { AppEnv } from './app-env';
import { ILL_FORMED, illFormedPath } from './well-formed';

const TARGET_NAMES: Record<string, string> = {
  json: 'request body',
  form: 'form field',
  query: 'query parameter',
  param: 'path parameter',
  header: 'header',
  cookie: 'cookie',
};

/** "request body feature_names[2]: expected string" — one line per problem, naming the field. */
export function describeZodError(error: ZodError, target: string): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
        '',
      );
      const where = `${TARGET_NAMES[target] ?? target}${path ? ` '${path}'` : ''}`;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Every router validates with zod and reports failures through the one error path, and answers
 * a path the same with or without a trailing slash (`strict: false`).
 */
export function newRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    strict: false,
    defaultHook: (result, c) => {
      if (!result.success) {
        throw invalidInput(describeZodError(result.error, result.target), { code: 'invalid_argument' });
      }
      // Tensors are not stored text: prediction bodies skip the walk on the hot path.
      if (result.target === 'json' && c.get('rules')?.body === 'json') {
        const at = illFormedPath(result.data);
        if (at !== undefined) {
          throw invalidInput(`request body${at ? ` '${at}'` : ''}: ${ILL_FORMED}`, { code: 'invalid_argument' });
        }
      }
    },
  });
}
