import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { readBodyLimited } from '../read-body';
import { routeClass } from '../route-class';

/*
 * Caps request bodies per route class before any handler reads them: management routes take
 * small JSON, prediction routes larger tensors. A declared Content-Length is what the runtime
 * delivers (HTTP framing: the body ends there), so one within the cap passes untouched; a body
 * without one (chunked) is read once, counted as it streams, and handed on. Model uploads are
 * left alone: model-upload.ts streams them against MAX_MODEL_BYTES the same way.
 */
export const bodyLimit = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const request = c.req.raw;
    if (!request.body) return next();
    const config = c.get('config');
    const kind = routeClass(c.req.method, c.req.path);
    if (kind === 'upload') return next();
    const limit = kind === 'prediction' ? config.MAX_PREDICT_BODY_BYTES : config.MAX_JSON_BODY_BYTES;
    const declared = request.headers.get('content-length');
    if (declared !== null && /^\d+$/.test(declared) && Number(declared) <= limit) return next();
    const body = await readBodyLimited(request, limit, 'the request body');
    c.req.raw = new Request(request, { body });
    await next();
  });
