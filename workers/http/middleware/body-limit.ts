import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { Config } from '../../core/config';
import type { AppEnv } from '../app-env';
import { tooLarge } from '../read-body';

/** Refuses bodies over the configured limit with 413 before they are read whole. */
export const bodyLimit = (limit: (config: Config) => number, what = 'the request body') =>
  createMiddleware<AppEnv>(async (c, next) => {
    const maxSize = limit(c.get('config'));
    return honoBodyLimit({
      maxSize,
      onError: () => {
        throw tooLarge(what, maxSize);
      },
    })(c, next);
  });
