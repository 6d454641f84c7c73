import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { readBodyLimited } from '../read-body';
import { routeClass } from '../route-class';

/*
 * Caps request bodies per route class before any handler reads them: management routes take
 * small JSON, prediction routes larger tensors. The body is read once, counted as it streams
 * (a missing or false Content-Length does not get past the cap), and handed on. Model uploads
 * are left alone: model-upload.ts streams them against MAX_MODEL_BYTES the same way.
 */
export const bodyLimit = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const request = c.req.raw;
    if (!request.body) return next();
    const config = c.get('config');
    const kind = routeClass(c.req.method, c.req.path);
    if (kind === 'upload') return next();
    const limit = kind === 'prediction' ? config.MAX_PREDICT_BODY_BYTES : config.MAX_JSON_BODY_BYTES;
    const body = await readBodyLimited(request, limit, 'the request body');
    c.req.raw = new Request(request, { body });
    await next();
  });
