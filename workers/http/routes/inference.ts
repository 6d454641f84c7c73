import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DomainError, unavailable } from '../../core/errors';
import { predict, type Prediction } from '../../inference/data-plane';
import { prepareModel } from '../../inference/model-runs';
import { servedOrRefusal } from '../../inference/served-versions';
import { resolveReference } from '../../registry/resolve';
import { servableVersionNumbers } from '../../registry/versions';
import type { AppEnv } from '../app-env';
import { cacheModeOf } from '../cache-mode';
import { ROUTE_HEADER, routingKeyOf } from '../routing-key';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { ModelName, VersionRef, jsonContent } from '../schemas/common';
import {
  InferRequest,
  InferResponse,
  ModelMetadata,
  ModelReady,
  SERVER_EXTENSIONS,
  ServerMetadata,
} from '../schemas/inference';
import { INFERENCE_HEADER } from '../../inference/tensor-binary';
import { encodeAnswer, outputChoices, withTensorData } from '../v2-tensors';

/*
 * The Open Inference Protocol (KServe V2) REST routes: adapters between the protocol's JSON and
 * the data plane. Errors on these paths answer `{"error": "..."}` (see http/errors.ts).
 * `{version}` is a number or an alias; without it a model answers with its `production` alias
 * where set, else its latest version.
 */

export const SERVER_NAME = 'modelflare';
export const SERVER_VERSION = '0.1.0';

const ModelParam = z.object({ model: ModelName.openapi({ param: { name: 'model', in: 'path' } }) });
const VersionParams = ModelParam.extend({ version: VersionRef.openapi({ param: { name: 'version', in: 'path' } }) });

/**
 * Server-Timing from the data plane's stages, set before the body like every other header: a
 * header added to a finished response makes hono copy the whole Response.
 */
export function reportTimings(c: Context<AppEnv>, prediction: Prediction): void {
  const stages = prediction.timings.map(
    ({ name, ms, desc }) => `${name};dur=${ms.toFixed(2)}${desc === undefined ? '' : `;desc="${desc}"`}`,
  );
  if (stages.length > 0) c.header('Server-Timing', stages.join(','));
  const access = c.get('access');
  access.model = prediction.served.modelName;
  access.version = prediction.served.version;
  access.rows = prediction.rows;
  access.cache = prediction.cache;
  c.header('X-Cache', prediction.cache);
  if (prediction.route) c.header(ROUTE_HEADER, String(prediction.route.index));
  if (prediction.predictionId) c.header('X-Prediction-Id', prediction.predictionId);
}

async function infer(c: Context<AppEnv>, model: string, version: string | undefined) {
  const body = c.req.valid('json' as never) as z.infer<typeof InferRequest>;
  const choices = outputChoices(body);
  const prediction = await predict(c.get('deps'), {
    scope: scopeOf(c),
    model,
    version,
    inputs: { kind: 'tensors', tensors: withTensorData(body.inputs, c.get('tensorData')), outputs: choices.requested },
    cache: cacheModeOf(c),
    routingKey: routingKeyOf(c),
    requestId: c.get('requestId'),
    startedAt: c.get('startedAt'),
  });
  reportTimings(c, prediction);
  const head = {
    model_name: prediction.served.modelName,
    model_version: String(prediction.served.version),
    id: body.id,
  };
  if (choices.special) {
    const answer = encodeAnswer(prediction, head, choices);
    return c.body(answer.body as never, 200, answer.headers) as never;
  }
  // The outputs are spliced in as text: on a cache hit they never pass through JSON.parse.
  const json = `${JSON.stringify(head).slice(0, -1)},"outputs":${prediction.outputsJson}}`;
  return c.body(json, 200, { 'Content-Type': 'application/json' }) as never;
}

async function metadata(c: Context<AppEnv>, model: string, version: string | undefined) {
  const deps = c.get('deps');
  const served = servedOrRefusal(await resolveReference(deps, scopeOf(c), model, version), model, version);
  Object.assign(c.get('access'), { model, version: served.version });
  const versions = await servableVersionNumbers(deps, scopeOf(c), model);
  return c.json(
    {
      name: served.modelName,
      versions: versions.map(String),
      platform: served.backend === 'remote' ? ('remote' as const) : ('onnxruntime_onnx' as const),
      inputs: served.signature.inputs,
      outputs: served.signature.outputs,
      parameters: { backend: served.backend },
    },
    200,
  );
}

/** 200 once the version can serve in this isolate; 503 when there is none, or it cannot load. */
async function ready(c: Context<AppEnv>, model: string, version: string | undefined) {
  const deps = c.get('deps');
  const resolution = await resolveReference(deps, scopeOf(c), model, version);
  if (!resolution.found && resolution.miss === 'version' && version === undefined) {
    throw unavailable(`model '${model}' has no version ready to serve`);
  }
  const served = servedOrRefusal(resolution, model, version);
  Object.assign(c.get('access'), { model, version: served.version });
  try {
    await prepareModel(deps, served);
  } catch (err) {
    if (err instanceof DomainError) {
      throw unavailable(`model '${model}' version ${served.version} cannot be loaded: ${err.message}`);
    }
    throw err;
  }
  return c.json({ name: served.modelName, ready: true }, 200);
}

const inferDescription = [
  'Runs the model on the given input tensors (Open Inference Protocol V2). Inputs are checked against the signature first: every input present, none unknown, datatype, rank and fixed dimensions, element count and element types; the error names the input.',
  'The body is JSON, with or without a Content-Type (as NVIDIA’s tritonclient sends it), and may be compressed (`Content-Encoding: gzip` or `deflate`; the body limit applies to the decompressed size). With the binary tensor data extension the JSON header is followed by the inputs’ raw bytes (little-endian, row-major; BYTES as 4-byte length-prefixed elements): `Inference-Header-Content-Length` gives the header’s length and each binary input its `parameters.binary_data_size`. Outputs asked for with `binary_data` (or all, with `binary_data_output`) come back the same way, as `application/octet-stream` with `Inference-Header-Content-Length`. `parameters.classification: K` on an output answers its top K classes per row as BYTES `"value:index[:label]"`.',
  'Predictions are cached (see the model’s `cache` settings): `X-Cache` says HIT, MISS or BYPASS; `Cache-Control: no-cache` recomputes and refreshes the entry, `no-store` skips the cache. `Server-Timing` shows registry lookup, model load, validation, cache and inference times.',
  'Through an alias that splits its traffic, `Modelflare-Routing-Key` (1 to 256 characters, a user or session id) keeps the caller on one route while the weights stand; `model_version` names the version that answered and the `Modelflare-Route` header the route.',
].join('\n\n');

const BinaryBody = z.string().openapi({
  format: 'binary',
  description:
    'The JSON inference header (its length in `Inference-Header-Content-Length`), then the binary tensor data of the inputs with `binary_data_size`, in their order',
});

const inferRoute = (path: '/v2/models/{model}/infer' | '/v2/models/{model}/versions/{version}/infer') =>
  defineRoute(
    { access: 'predict', budget: 'prediction', body: 'tensors', errors: [404] },
    {
      method: 'post',
      path,
      tags: ['Inference (V2)'],
      summary: path.includes('{version}') ? 'Infer with a version or alias' : 'Infer',
      description: inferDescription,
      request: {
        params: path.includes('{version}') ? VersionParams : ModelParam,
        body: {
          required: true,
          content: { 'application/json': { schema: InferRequest }, 'application/octet-stream': { schema: BinaryBody } },
        },
      },
      responses: {
        200: {
          description:
            'The output tensors: JSON, or (when an output is binary) the JSON header followed by the binary outputs’ bytes',
          headers: {
            [INFERENCE_HEADER]: {
              description: 'With binary outputs: the length of the JSON header at the start of the body',
              schema: { type: 'integer' },
            },
          },
          content: {
            'application/json': { schema: InferResponse },
            'application/octet-stream': { schema: BinaryBody },
          },
        },
      },
    },
  );

/** The protocol's model GET routes (metadata and readiness), with or without a version. */
const modelRoute = <P extends string>(
  path: P,
  summary: string,
  description: string,
  answer: ReturnType<typeof jsonContent>,
  errors: number[],
) =>
  defineRoute(
    { access: 'models:read', budget: 'prediction', body: 'none', errors },
    {
      method: 'get',
      path,
      tags: ['Inference (V2)'],
      summary,
      description,
      request: { params: path.includes('{version}') ? VersionParams : ModelParam },
      responses: { 200: answer },
    },
  );

const metadataRoute = <P extends string>(path: P, summary: string, description: string) =>
  modelRoute(path, summary, description, jsonContent(ModelMetadata, 'Model metadata'), [404]);
const readyRoute = <P extends string>(path: P, summary: string, description: string) =>
  modelRoute(path, summary, description, jsonContent(ModelReady, 'Ready'), [404, 503]);

export const inferenceRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'public', budget: 'unmetered', body: 'none' },
      {
        method: 'get',
        path: '/v2',
        tags: ['Inference (V2)'],
        summary: 'Server metadata',
        description: 'Name, version and protocol extensions of the server (Open Inference Protocol).',
        responses: { 200: jsonContent(ServerMetadata, 'Server metadata') },
      },
    ),
    (c) => c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [...SERVER_EXTENSIONS] }, 200),
  )
  .openapi(
    metadataRoute(
      '/v2/models/{model}',
      'Model metadata',
      'Inputs and outputs (datatype, shape with -1 for dynamic dimensions) of the version served by default: the `production` alias, else the latest version.',
    ),
    (c) => metadata(c, c.req.valid('param').model, undefined),
  )
  .openapi(
    metadataRoute(
      '/v2/models/{model}/versions/{version}',
      'Model version metadata',
      'Inputs and outputs of a version given by number or alias.',
    ),
    (c) => {
      const { model, version } = c.req.valid('param') as { model: string; version: string };
      return metadata(c, model, version);
    },
  )
  .openapi(
    readyRoute(
      '/v2/models/{model}/ready',
      'Model ready',
      'Loads the default version into this isolate if it is not loaded yet; 200 once it can serve, 503 when it cannot (no servable version, or the file fails to load).',
    ),
    (c) => ready(c, c.req.valid('param').model, undefined),
  )
  .openapi(
    readyRoute(
      '/v2/models/{model}/versions/{version}/ready',
      'Model version ready',
      'As model ready, for a version given by number or alias.',
    ),
    (c) => {
      const { model, version } = c.req.valid('param') as { model: string; version: string };
      return ready(c, model, version);
    },
  )
  .openapi(inferRoute('/v2/models/{model}/infer'), (c) => infer(c, c.req.valid('param').model, undefined))
  .openapi(inferRoute('/v2/models/{model}/versions/{version}/infer'), (c) => {
    const { model, version } = c.req.valid('param') as { model: string; version: string };
    return infer(c, model, version);
  });
