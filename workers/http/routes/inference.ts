import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DomainError, unavailable } from '../../core/errors';
import { infer, resolveServed, warm } from '../../inference/infer';
import { Timing } from '../../inference/timing';
import { servableVersionNumbers } from '../../registry/versions';
import type { AppEnv } from '../app-env';
import { cacheModeOf } from '../cache-mode';
import { observe } from '../middleware/observe-inference';
import { requirePermission } from '../middleware/require-auth';
import { monitorPrediction } from '../monitor-prediction';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { BEARER, ModelName, V2Error, VersionRef, jsonContent } from '../schemas/common';
import { V2_ERRORS } from '../schemas/examples';
import { InferRequest, InferResponse, ModelMetadata, ModelReady, ServerMetadata } from '../schemas/inference';

/*
 * The Open Inference Protocol (KServe V2) REST routes. Errors on these paths answer
 * `{"error": "..."}` (see http/errors.ts). `{version}` is a number or an alias; without it a
 * model answers with its `production` alias where set, else its latest version.
 */

export const SERVER_NAME = 'modelflare';
export const SERVER_VERSION = '0.1.0';

/** As errorResponses, in the protocol's error body: 503 (a store down) is always listed. */
const v2Errors = (...statuses: number[]) =>
  Object.fromEntries(
    [...new Set([...statuses, 503])].map((s) => [
      s,
      { description: 'Error', content: { 'application/json': { schema: V2Error, example: { error: V2_ERRORS[s] } } } },
    ]),
  );

const ModelParam = z.object({ model: ModelName.openapi({ param: { name: 'model', in: 'path' } }) });
const VersionParams = ModelParam.extend({ version: VersionRef.openapi({ param: { name: 'version', in: 'path' } }) });

async function metadata(c: Context<AppEnv>, model: string, version: string | undefined) {
  const deps = c.get('deps');
  const served = await resolveServed(deps, scopeOf(c), model, version);
  Object.assign(c.get('log'), { model, version: served.version });
  const versions = await servableVersionNumbers(deps, scopeOf(c), model);
  return c.json(
    {
      name: served.modelName,
      versions: versions.map(String),
      platform: 'onnxruntime_onnx' as const,
      inputs: served.signature.inputs,
      outputs: served.signature.outputs,
    },
    200,
  );
}

async function ready(c: Context<AppEnv>, model: string, version: string | undefined) {
  const deps = c.get('deps');
  let served;
  try {
    served = await resolveServed(deps, scopeOf(c), model, version);
  } catch (err) {
    if (version === undefined && err instanceof DomainError && err.code === 'version_not_found') {
      throw unavailable(`model '${model}' has no version ready to serve`);
    }
    throw err;
  }
  Object.assign(c.get('log'), { model, version: served.version });
  try {
    await warm(deps, served);
  } catch (err) {
    if (err instanceof DomainError)
      throw unavailable(`model '${model}' version ${served.version} cannot be loaded: ${err.message}`);
    throw err;
  }
  return c.json({ name: served.modelName, ready: true }, 200);
}

async function inferRoute(
  c: Context<AppEnv>,
  model: string,
  version: string | undefined,
  body: z.infer<typeof InferRequest>,
) {
  const timing = new Timing();
  const deps = c.get('deps');
  c.get('log').model = model;
  const served = await timing.measure('registry', () => resolveServed(deps, scopeOf(c), model, version));
  c.set('served', served);
  Object.assign(c.get('log'), { version: served.version, rows: body.inputs[0]?.shape[0] ?? 1 });
  const result = await infer(deps, served, body, cacheModeOf(c), timing);
  c.get('log').cache = result.cache;
  monitorPrediction(c, result, { inputs: body.inputs }, Number(c.get('log').rows));
  // The outputs are spliced in as text: on a cache hit they never pass through JSON.parse.
  const head = { model_name: result.served.modelName, model_version: String(result.served.version), id: body.id };
  const json = `${JSON.stringify(head).slice(0, -1)},"outputs":${result.outputsJson}}`;
  return c.body(json, 200, {
    'Content-Type': 'application/json',
    'X-Cache': result.cache,
    'Server-Timing': timing.header(),
  }) as never;
}

const inferDescription = [
  'Runs the model on the given input tensors (Open Inference Protocol V2). Inputs are checked against the signature first: every input present, none unknown, datatype, rank and fixed dimensions, element count and element types; the error names the input.',
  'Predictions are cached in KV per model (see the model’s `cache` settings): `X-Cache` says HIT, MISS or BYPASS; `Cache-Control: no-cache` recomputes and refreshes the entry, `no-store` skips the cache. `Server-Timing` shows registry lookup, model load, validation, cache and inference times.',
].join('\n\n');

const inferRoutes = (path: '/v2/models/{model}/infer' | '/v2/models/{model}/versions/{version}/infer') =>
  createRoute({
    method: 'post',
    path,
    tags: ['Inference (V2)'],
    summary: path.includes('{version}') ? 'Infer with a version or alias' : 'Infer',
    description: inferDescription,
    security: BEARER,
    middleware: [requirePermission('predict'), observe()] as const,
    request: {
      params: path.includes('{version}') ? VersionParams : ModelParam,
      body: { required: true, content: { 'application/json': { schema: InferRequest } } },
    },
    responses: {
      200: jsonContent(InferResponse, 'The output tensors'),
      ...v2Errors(400, 401, 403, 404, 413, 415, 429),
    },
  });

export const inferenceRoutes = newRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/v2',
      tags: ['Inference (V2)'],
      summary: 'Server metadata',
      description: 'Name, version and protocol extensions of the server (Open Inference Protocol).',
      responses: { 200: jsonContent(ServerMetadata, 'Server metadata') },
    }),
    (c) => c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }, 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v2/models/{model}',
      tags: ['Inference (V2)'],
      summary: 'Model metadata',
      description:
        'Inputs and outputs (datatype, shape with -1 for dynamic dimensions) of the version served by default: the `production` alias, else the latest version.',
      security: BEARER,
      middleware: [requirePermission('models:read')] as const,
      request: { params: ModelParam },
      responses: { 200: jsonContent(ModelMetadata, 'Model metadata'), ...v2Errors(400, 401, 403, 404) },
    }),
    (c) => metadata(c, c.req.valid('param').model, undefined),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v2/models/{model}/versions/{version}',
      tags: ['Inference (V2)'],
      summary: 'Model version metadata',
      description: 'Inputs and outputs of a version given by number or alias.',
      security: BEARER,
      middleware: [requirePermission('models:read')] as const,
      request: { params: VersionParams },
      responses: { 200: jsonContent(ModelMetadata, 'Model metadata'), ...v2Errors(400, 401, 403, 404) },
    }),
    (c) => metadata(c, c.req.valid('param').model, c.req.valid('param').version),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v2/models/{model}/ready',
      tags: ['Inference (V2)'],
      summary: 'Model ready',
      description:
        'Loads the default version into this isolate if it is not loaded yet; 200 once it can serve, 503 when it cannot (no servable version, or the file fails to load).',
      security: BEARER,
      middleware: [requirePermission('models:read')] as const,
      request: { params: ModelParam },
      responses: { 200: jsonContent(ModelReady, 'Ready'), ...v2Errors(400, 401, 403, 404, 503) },
    }),
    (c) => ready(c, c.req.valid('param').model, undefined),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v2/models/{model}/versions/{version}/ready',
      tags: ['Inference (V2)'],
      summary: 'Model version ready',
      description: 'As model ready, for a version given by number or alias.',
      security: BEARER,
      middleware: [requirePermission('models:read')] as const,
      request: { params: VersionParams },
      responses: { 200: jsonContent(ModelReady, 'Ready'), ...v2Errors(400, 401, 403, 404, 503) },
    }),
    (c) => ready(c, c.req.valid('param').model, c.req.valid('param').version),
  )
  .openapi(inferRoutes('/v2/models/{model}/infer'), (c) =>
    inferRoute(c, c.req.valid('param').model, undefined, c.req.valid('json')),
  )
  .openapi(inferRoutes('/v2/models/{model}/versions/{version}/infer'), (c) => {
    const { model, version } = c.req.valid('param') as { model: string; version: string };
    return inferRoute(c, model, version, c.req.valid('json'));
  });
