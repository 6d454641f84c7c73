import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';

type SecureHeadersOptions = NonNullable<Parameters<typeof secureHeaders>[0]>;
import type { AppEnv } from '../app-env';

/*
 * Security headers on every response, errors included. The policy denies everything a JSON
 * API never needs; /docs (Swagger UI served from this worker) needs its own scripts, inline
 * styles and data: images, and nothing from another origin. HSTS is left out in development,
 * where the server is plain http on localhost.
 */
const options: SecureHeadersOptions = {
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
  xFrameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
  // A cross-origin API: which origins may read responses is decided by CORS, not CORP.
  crossOriginResourcePolicy: false,
};

const withHsts = secureHeaders({ ...options, strictTransportSecurity: 'max-age=31536000; includeSubDomains' });
const withoutHsts = secureHeaders({ ...options, strictTransportSecurity: false });

export const securityHeaders = () =>
  createMiddleware<AppEnv>((c, next) =>
    (c.get('deps').config.ENVIRONMENT === 'development' ? withoutHsts : withHsts)(c, next),
  );
