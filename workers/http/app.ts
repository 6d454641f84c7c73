import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { methodNotAllowed as notAllowed, notFound } from '../core/errors';
import { newId, SAFE_TOKEN } from '../core/ids';
import type { Env } from '../platform/env';
import type { IsolateServices } from '../platform/services';
import type { AppEnv } from './app-env';
import { ErrorEnvelope, handleError } from './errors';
import { requestScope } from './middleware/request-scope';
import { responseHeaders } from './middleware/response-headers';
import { plainRoute } from './route';
import { newRouter } from './router';
import { alertRoutes } from './routes/alerts';
import { aliasRoutes } from './routes/aliases';
import { rolloutRoutes } from './routes/rollouts';
import { apiKeyRoutes } from './routes/api-keys';
import { auditRoutes } from './routes/audit';
import { authRoutes } from './routes/auth';
import { passwordRoutes } from './routes/passwords';
import { dashboardRoutes } from './routes/dashboard';
import { docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { inferenceRoutes } from './routes/inference';
import { invitationRoutes } from './routes/invitations';
import { landingRoutes } from './routes/landing';
import { jobRoutes } from './routes/jobs';
import { memberRoutes } from './routes/members';
import { modelRoutes } from './routes/models';
import { monitoringRoutes } from './routes/monitoring';
import { predictRoutes } from './routes/predict';
import { runnerFileRoutes } from './routes/runner-files';
import { predictionExportRoutes } from './routes/prediction-export';
import { requestFailureRoutes } from './routes/request-failures';
import { triggerRoutes } from './routes/triggers';
import { versionRoutes } from './routes/versions';
import { webhookRoutes } from './routes/webhooks';
import { workspaceRoutes } from './routes/workspaces';

const API_VERSION = '0.1.0';

/*
 * The path of a request: hono's request id, the request's deps and access line, security and
 * CORS headers, 405 for a known path with another method, Server-Timing where a route measured
 * stages; then the route's own rules (route.ts), its adapter, and services below. Errors from
 * any of them meet handleError, the one place that maps them to HTTP.
 */
export function createApp(servicesFor: (env: Env) => IsolateServices) {
  const app = newRouter();
  app.use(
    '*',
    // hono keeps an incoming id of word characters, '-' and '='; ids with '.' or ':' (trace ids)
    // are kept too when they pass our own rule.
    requestId({
      limitLength: 128,
      generator: (c) => {
        const incoming = c.req.header('x-request-id');
        return incoming && SAFE_TOKEN.test(incoming) ? incoming : newId('req');
      },
    }),
    requestScope(servicesFor),
    responseHeaders(),
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, found) => {
        const methods = [...found].sort();
        c.header('Allow', methods.join(', '));
        return handleError(
          notAllowed(`method ${c.req.method} is not allowed on ${c.req.path}; allowed: ${methods.join(', ')}`, {
            code: 'method_not_allowed',
          }),
          c as never,
        );
      },
    }),
  );

  app.route('/', healthRoutes);
  app.route('/', authRoutes);
  app.route('/', passwordRoutes);
  app.route('/', workspaceRoutes);
  app.route('/', memberRoutes);
  app.route('/', invitationRoutes);
  app.route('/', apiKeyRoutes);
  app.route('/', auditRoutes);
  app.route('/', modelRoutes);
  app.route('/', versionRoutes);
  app.route('/', aliasRoutes);
  app.route('/', rolloutRoutes);
  app.route('/', inferenceRoutes);
  app.route('/', predictRoutes);
  app.route('/', jobRoutes);
  app.route('/', triggerRoutes);
  app.route('/', webhookRoutes);
  app.route('/', monitoringRoutes);
  app.route('/', predictionExportRoutes);
  app.route('/', requestFailureRoutes);
  app.route('/', alertRoutes);
  app.route('/', docsRoutes);
  app.route('/', dashboardRoutes);
  app.route('/', runnerFileRoutes);
  app.route('/', landingRoutes);

  app.openAPIRegistry.register('Error', ErrorEnvelope);
  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      'The admin key (ADMIN_API_KEY), a user access token (JWT from /v1/auth/login) or an API key (`mfk_…`). Users and the admin pick the workspace to act in with the `Modelflare-Workspace` header.',
  });
  app.use('/openapi.json', plainRoute('GET', '/openapi.json', { access: 'public', budget: 'unmetered', body: 'none' }));
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

  app.notFound((c) =>
    handleError(notFound(`no route for ${c.req.method} ${c.req.path}`, { code: 'route_not_found' }), c),
  );
  app.onError(handleError);
  return app;
}

export type App = ReturnType<typeof createApp>;
export type { AppEnv };
