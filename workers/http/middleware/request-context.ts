import { createMiddleware } from 'hono/factory';
import { configFrom } from '../../core/config';
import { SAFE_TOKEN, newId } from '../../core/ids';
import { database } from '../../storage/db';
import type { AppEnv } from '../app-env';

/** Sets the request id (a well-formed incoming X-Request-Id is kept) and per-request services. */
export const requestContext = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SAFE_TOKEN.test(incoming) ? incoming : newId('req');
    c.set('requestId', requestId);
    c.set('startedAt', performance.now());
    c.set('log', {});
    c.set('config', configFrom(c.env));
    c.set('deps', { db: database(c.env.DB), bucket: c.env.BUCKET });
    await next();
    c.header('X-Request-Id', requestId);
  });
