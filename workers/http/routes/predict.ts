import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { instancesToInputs, outputsToPredictions } from '../../inference/instances';
import { infer, resolveServed } from '../../inference/infer';
import { Timing } from '../../inference/timing';
import type { ResponseTensor } from '../../inference/types';
import type { AppEnv } from '../app-env';
import { cacheModeOf } from '../cache-mode';
import { observe } from '../middleware/observe-inference';
import { requirePermission } from '../middleware/require-auth';
import { monitorPrediction } from '../monitor-prediction';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { BEARER, ModelName, VersionRef, errorResponses, jsonContent } from '../schemas/common';
import { PredictRequest, PredictResponse } from '../schemas/inference';

const ModelParam = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' } }) });
const VersionParams = ModelParam.extend({ version: VersionRef.openapi({ param: { name: 'version', in: 'path' } }) });

async function predict(c: Context<AppEnv>, name: string, version: string | undefined, instances: unknown[]) {
  const deps = c.get('deps');
  const timing = new Timing();
  c.get('log').model = name;
  const served = await timing.measure('registry', () => resolveServed(deps, scopeOf(c), name, version));
  c.set('served', served);
  Object.assign(c.get('log'), { version: served.version, rows: instances.length });
  const inputs = instancesToInputs(served, instances);
  const result = await infer(deps, served, { inputs }, cacheModeOf(c), timing);
  c.get('log').cache = result.cache;
  const outputs = JSON.parse(result.outputsJson) as ResponseTensor[];
  const predictions = outputsToPredictions(result.served, outputs, instances.length);
  monitorPrediction(c, result, { instances }, instances.length, predictions);
  return c.json({ predictions, model: result.served.modelName, model_version: result.served.version }, 200, {
    'X-Cache': result.cache,
    'Server-Timing': timing.header(),
  });
}

const route = (path: '/v1/models/{name}/predict' | '/v1/models/{name}/versions/{version}/predict') =>
  createRoute({
    method: 'post',
    path,
    tags: ['Inference'],
    summary: path.includes('{version}') ? 'Predict with a version or alias' : 'Predict',
    description: [
      'The friendly prediction API: `instances` holds one JSON record per row. For a model with one `[batch, features]` input and feature names, a record is an object keyed by feature name; otherwise an object keyed by input name, or an array in signature order.',
      'Answers one prediction per instance. For classifiers with class labels, each prediction carries the label and the class probabilities. Without a version: the `production` alias, else the latest version. Caching and headers as for V2 infer.',
    ].join('\n\n'),
    security: BEARER,
    middleware: [requirePermission('predict'), observe()] as const,
    request: {
      params: path.includes('{version}') ? VersionParams : ModelParam,
      body: { required: true, content: { 'application/json': { schema: PredictRequest } } },
    },
    responses: {
      200: jsonContent(PredictResponse, 'One prediction per instance'),
      ...errorResponses(400, 401, 403, 404, 413, 415, 429),
    },
  });

export const predictRoutes = newRouter()
  .openapi(route('/v1/models/{name}/predict'), (c) =>
    predict(c, c.req.valid('param').name, undefined, c.req.valid('json').instances),
  )
  .openapi(route('/v1/models/{name}/versions/{version}/predict'), (c) => {
    const { name, version } = c.req.valid('param') as { name: string; version: string };
    return predict(c, name, version, c.req.valid('json').instances);
  });
