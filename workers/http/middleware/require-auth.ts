import { createMiddleware } from 'hono/factory';
import { authenticate, authorize } from '../../auth/authenticate';
import type { Permission } from '../../auth/principal';
import { invalidInput } from '../../core/errors';
import type { AppEnv } from '../app-env';
import { isPublicRoute } from '../public-routes';
import { WORKSPACE_HEADER, WorkspaceId } from '../schemas/common';

/** Every route that touches tenant data sits behind this; only PUBLIC_ROUTES pass without. */
export const requireAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (isPublicRoute(c.req.method, c.req.path)) return next();
    const header = c.req.header(WORKSPACE_HEADER);
    const workspace = header === undefined ? undefined : WorkspaceId.safeParse(header);
    if (workspace && !workspace.success) {
      throw invalidInput(`header '${WORKSPACE_HEADER}': expected a workspace id such as ws_default`);
    }
    const principal = await authenticate(
      { db: c.get('deps').db, config: c.get('config'), adminKey: c.env.ADMIN_API_KEY, defer: c.get('deps').defer },
      { authorization: c.req.header('authorization'), workspaceId: workspace?.data },
    );
    c.set('principal', principal);
    Object.assign(c.get('log'), { actor: principal.id, workspace: principal.workspaceId });
    await next();
  });

/** Route-level permission check; runs after requireAuth. */
export const requirePermission = (permission: Permission) =>
  createMiddleware<AppEnv>(async (c, next) => {
    authorize(c.get('principal'), permission);
    await next();
  });
