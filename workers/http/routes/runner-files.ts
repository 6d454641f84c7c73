import { RUNNER_FILES_PATH, serveRunnerFile } from '../../inference/backends/runner-files';
import { plainRoute } from '../route';
import { newRouter } from '../router';

/*
 * Model files for a runner that reaches the worker over HTTP (npm start, a runner outside
 * Cloudflare): its own token, RUNNER_TOKEN, is the credential. Outside the OpenAPI document:
 * it is the runner's, not the API's.
 */
export const runnerFileRoutes = newRouter().get(
  RUNNER_FILES_PATH,
  plainRoute('GET', RUNNER_FILES_PATH, { access: 'own-credential', budget: 'unmetered', body: 'none' }),
  (c) => serveRunnerFile(c.get('deps').bucket, c.req.raw, c.get('deps').config.RUNNER_TOKEN),
);
