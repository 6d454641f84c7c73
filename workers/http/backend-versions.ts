import type { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { describeOnRunner, describeRemote } from '../inference/backends/describe';
import { remoteCredentialContext } from '../inference/backends/remote';
import { runnerNotConfigured } from '../inference/backends/runner';
import { createRemoteVersion } from '../registry/remote-versions';
import { createStreamedVersion } from '../registry/streamed-versions';
import type { ModelVersion } from '../registry/types';
import { checkWebhookUrl } from '../webhooks/url-policy';
import type { AppEnv } from './app-env';
import { readModelUploadStream, versionFieldsOf } from './model-upload';
import { RegisterRemoteBody } from './schemas/registry';
import { scopeOf } from './scope';
import { tooLarge } from './read-body';

/*
 * The two ways a version comes to be served outside the isolate: a file for the native runner
 * (streamed to R2, loaded by the runner to validate it), and a model on a remote Open Inference
 * Protocol server (registered by URL, described by the remote's metadata).
 */

/** Whether an upload goes to the runner: asked for, or too large for the isolate while a runner exists. */
export function goesToRunner(c: Context<AppEnv>, backend: 'isolate' | 'runner' | undefined): boolean {
  if (backend !== undefined) return backend === 'runner';
  const { config, runner } = c.get('deps');
  const declared = Number(c.req.header('content-length') ?? NaN);
  return runner !== undefined && declared > config.MAX_MODEL_BYTES;
}

export async function uploadForRunner(c: Context<AppEnv>, name: string): Promise<ModelVersion> {
  const deps = c.get('deps');
  const { config } = deps;
  if (!deps.runner) throw runnerNotConfigured();
  const { body, fields } = await readModelUploadStream(
    c.req.raw,
    config.MAX_RUNNER_MODEL_BYTES,
    config.MAX_MODEL_BYTES,
  );
  return createStreamedVersion(deps, scopeOf(c), name, {
    body,
    maxBytes: config.MAX_RUNNER_MODEL_BYTES,
    tooLarge: () => tooLarge('the model file', config.MAX_RUNNER_MODEL_BYTES),
    fields,
    describe: (versionId, file) => describeOnRunner(deps, versionId, file),
  });
}

export async function registerRemote(
  c: Context<AppEnv>,
  name: string,
  body: z.infer<typeof RegisterRemoteBody>,
): Promise<ModelVersion> {
  const deps = c.get('deps');
  const { remote: given, ...metadata } = body;
  const remote = {
    url: checkWebhookUrl(given.url, deps.config, 'remote URL').replace(/\/+$/, ''),
    model: given.model,
    version: given.version ?? null,
    credentialHeader: given.credential_header ?? null,
    timeoutMs: given.timeout_ms ?? null,
  };
  const credential = given.credential ?? null;
  const { signature, binary } = await describeRemote(deps, remote, credential);
  return createRemoteVersion(
    deps,
    scopeOf(c),
    name,
    { remote: { ...remote, binary }, credential, signature },
    versionFieldsOf(metadata),
    remoteCredentialContext,
  );
}
