import { notFound as notFoundError } from '../core/errors';
import type { AppEnv } from './app-env';
import { handleError, renderError } from './errors';
import { allowedMethods } from './method-not-allowed';
import { accessLog } from './middleware/access-log';
import { bodyLimit } from './middleware/body-limit';
import { cors } from './middleware/cors';
import { rateLimit } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { requireAuth } from './middleware/require-auth';
import { securityHeaders } from './middleware/security-headers';
import { newRouter } from './router';
import { aliasRoutes } from './routes/aliases';
import { apiKeyRoutes } from './routes/api-keys';
import { auditRoutes } from './routes/audit';
import { authRoutes } from './routes/auth';
import { dashboardRoutes } from './routes/dashboard';
import { docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { inferenceRoutes } from './routes/inference';
import { invitationRoutes } from './routes/invitations';
import { jobRoutes } from './routes/jobs';
import { memberRoutes } from './routes/members';
import { modelRoutes } from './routes/models';
import { monitoringRoutes } from './routes/monitoring';
import { predictRoutes } from './routes/predict';
import { triggerRoutes } from './routes/triggers';
import { versionRoutes } from './routes/versions';
import { webhookRoutes } from './routes/webhooks';
import { workspaceRoutes } from './routes/workspaces';

const API_VERSION = '0.1.0';

export function createApp() {
  const app = newRouter();
  app.use('*', requestContext(), accessLog(), securityHeaders(), cors());
  // Default deny: everything under /v1 and the model routes of /v2 need a credential, except
  // the few listed in public-routes.ts. /v2 health and server metadata stay open.
  for (const prefix of ['/v1/*', '/v2/models/*']) app.use(prefix, requireAuth(), rateLimit());
  app.use('*', bodyLimit());

  app.route('/', healthRoutes);
  app.route('/', authRoutes);
  app.route('/', workspaceRoutes);
  app.route('/', memberRoutes);
  app.route('/', invitationRoutes);
  app.route('/', apiKeyRoutes);
  app.route('/', auditRoutes);
  app.route('/', modelRoutes);
  app.route('/', versionRoutes);
  app.route('/', aliasRoutes);
  app.route('/', inferenceRoutes);
  app.route('/', predictRoutes);
  app.route('/', jobRoutes);
  app.route('/', triggerRoutes);
  app.route('/', webhookRoutes);
  app.route('/', monitoringRoutes);
  app.route('/', docsRoutes);
  app.route('/', dashboardRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      'The admin key (ADMIN_API_KEY), a user access token (JWT from /v1/auth/login) or an API key (`mfk_…`). Users and the admin pick the workspace to act in with the `Modelflare-Workspace` header.',
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
