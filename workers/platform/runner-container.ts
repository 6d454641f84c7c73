import { Container, getContainer } from '@cloudflare/containers';
import type { Config } from '../core/config';
import { RUNNER_FILES_HOST, serveRunnerFile } from '../inference/backends/runner-files';
import type { RunnerGateway } from '../inference/backends/runner';
import type { Env } from './env';

/*
 * The native runner deployed: a Cloudflare Container (the image built from runner/Dockerfile)
 * behind a Durable Object per instance. The container has no internet: the only thing it
 * fetches, model files, it asks of RUNNER_FILES_HOST, which this object answers from R2.
 */
export class RunnerContainer extends Container<Env> {
  override defaultPort = 8080;
  override sleepAfter = '15m';
  override enableInternet = false;

  static override outboundByHost = {
    [RUNNER_FILES_HOST]: (request: Request, env: Env) => serveRunnerFile(env.BUCKET, request, env.RUNNER_TOKEN),
  };

  constructor(ctx: ConstructorParameters<typeof Container>[0], env: Env) {
    super(ctx, env);
    this.envVars = {
      RUNNER_TOKEN: env.RUNNER_TOKEN ?? '',
      MODEL_SOURCE_URL: `http://${RUNNER_FILES_HOST}`,
      PORT: '8080',
    };
  }
}

/** How the worker reaches runner instances: RUNNER_URL when set, else the container binding. */
export function runnerGateway(config: Config, env: Env): RunnerGateway | undefined {
  const token = config.RUNNER_TOKEN ?? '';
  const auth = { Authorization: `Bearer ${token}` };
  const withAuth = (init: RequestInit): RequestInit => ({
    ...init,
    headers: { ...(init.headers as Record<string, string>), ...auth },
  });
  if (config.RUNNER_URL) {
    const base = config.RUNNER_URL.replace(/\/+$/, '');
    // One runner process locally: every instance name reaches it.
    return { fetch: (_instance, path, init) => fetch(`${base}${path}`, withAuth(init)) };
  }
  const binding = env.RUNNER;
  if (!binding) return undefined;
  return {
    fetch: (instance, path, init) =>
      getContainer(binding as unknown as DurableObjectNamespace<Container>, instance).fetch(
        new Request(`http://runner${path}`, withAuth(init)),
      ),
  };
}
