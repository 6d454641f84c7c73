import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { Config } from '../../core/config';
import type { AppEnv } from '../app-env';
import { tooLarge } from '../read-body';

/** Refuses bodies over the configured limit with 413 before they are read whole. */
export const bodyLimit = (limit: (config: Config) => number, what = 'the request body') => {
  // One hono limiter per configured size, built once: building it costs a prediction request
  // several closures (the bundle keeps their names, so each one is also renamed).
  const limiters = new Map<number, MiddlewareHandler>();
  return createMiddleware<AppEnv>(async (c, next) => {
    const maxSize = limit(c.get('config'));
    let limiter = limiters.get(maxSize);
    if (!limiter) {
      limiter = honoBodyLimit({
        maxSize,
        onError: () => {
          throw tooLarge(what, maxSize);
        },
      });
      limiters.set(maxSize, limiter);
    }
    return limiter(c, next);
  });
};
