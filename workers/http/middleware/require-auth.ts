import { createMiddleware } from 'hono/factory';
import { authenticate } from '../../auth/authenticate';
import type { AppEnv } from '../app-env';

/** Every route that touches tenant data sits behind this. */
export const requireAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = await authenticate(c.env, c.req.header('authorization'));
    c.set('principal', principal);
    await next();
  });
