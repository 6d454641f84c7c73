import { createMiddleware } from 'hono/factory';
import { authenticate, authorize } from '../../auth/authenticate';
import type { Permission } from '../../auth/principal';
import type { AppEnv } from '../app-env';

/** Every route that touches tenant data sits behind this. */
export const requireAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = await authenticate(c.env, c.req.header('authorization'));
    c.set('principal', principal);
    await next();
  });

/** Route-level permission check; runs after requireAuth. */
export const requirePermission = (permission: Permission) =>
  createMiddleware<AppEnv>(async (c, next) => {
    authorize(c.get('principal'), permission);
    await next();
  });
