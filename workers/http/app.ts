import { notFound as notFoundError } from '../core/errors';
import type { AppEnv } from './app-env';
import { handleError, renderError } from './errors';
import { allowedMethods } from './method-not-allowed';
import { accessLog } from './middleware/access-log';
import { requestContext } from './middleware/request-context';
import { requireAuth } from './middleware/require-auth';
import { newRouter } from './router';
import { aliasRoutes } from './routes/aliases';
import { docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { jobRoutes } from './routes/jobs';
import { inferenceRoutes } from './routes/inference';
import { modelRoutes } from './routes/models';
import { predictRoutes } from './routes/predict';
import { triggerRoutes } from './routes/triggers';
import { versionRoutes } from './routes/versions';
import { webhookRoutes } from './routes/webhooks';

const API_VERSION = '0.1.0';

/** /v1 routes that authenticate otherwise: inbound webhooks carry a signature instead. */
const PUBLIC_V1_ROUTES = [/^\/v1\/hooks\/[^/]+$/];

export function createApp() {
  const app = newRouter();
  app.use('*', requestContext(), accessLog());
  // Default deny: everything under /v1 needs a credential but the routes listed as public.
  const authenticate = requireAuth();
  app.use('/v1/*', (c, next) => (PUBLIC_V1_ROUTES.some((r) => r.test(c.req.path)) ? next() : authenticate(c, next)));
  app.use('/v2/models/*', requireAuth());

  app.route('/', healthRoutes);
  app.route('/', modelRoutes);
  app.route('/', versionRoutes);
  app.route('/', aliasRoutes);
  app.route('/', inferenceRoutes);
  app.route('/', predictRoutes);
  app.route('/', jobRoutes);
  app.route('/', triggerRoutes);
  app.route('/', webhookRoutes);
  app.route('/', docsRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'The admin key (ADMIN_API_KEY), a user access token or an API key',
  });
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'modelflare',
      version: API_VERSION,
      description:
        'ML model serving on Cloudflare Workers: a registry of ONNX models, the Open Inference Protocol (V2) for predictions, batch jobs and monitoring.',
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));

  const methodsFor = allowedMethods(app as never);
  app.notFound((c) => {
    const allowed = methodsFor(c.req.path);
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      return renderError(c, {
        status: 405,
        code: 'method_not_allowed',
        message: `method ${c.req.method} is not allowed on ${c.req.path}; allowed: ${allowed.join(', ')}`,
      });
    }
    const err = notFoundError(`no route for ${c.req.method} ${c.req.path}`, { code: 'route_not_found' });
    return handleError(err, c);
  });
  app.onError(handleError);
  return app;
}

export type App = ReturnType<typeof createApp>;
export type { AppEnv };
