import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { invalidInput } from '../../core/errors';
import { predict } from '../../inference/data-plane';
import type { AppEnv } from '../app-env';
import { cacheModeOf } from '../cache-mode';
import { routingKeyOf } from '../routing-key';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { ModelName, VersionRef, jsonContent } from '../schemas/common';
import { PredictRequest, PredictResponse } from '../schemas/inference';
import { INFERENCE_HEADER } from '../../inference/tensor-binary';
import { reportTimings } from './inference';

/* The instances API: JSON records in, one prediction per record out, over the same data plane. */

const ModelParam = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' } }) });
const VersionParams = ModelParam.extend({ version: VersionRef.openapi({ param: { name: 'version', in: 'path' } }) });

async function predictRecords(c: Context<AppEnv>, name: string, version: string | undefined, records: unknown[]) {
  if (c.get('tensorData')) {
    throw invalidInput(
      `binary tensor data (${INFERENCE_HEADER}) is for the Open Inference Protocol's infer route; send the instances as JSON`,
    );
  }
  const prediction = await predict(c.get('deps'), {
    scope: scopeOf(c),
    model: name,
    version,
    inputs: { kind: 'records', records },
    cache: cacheModeOf(c),
    routingKey: routingKeyOf(c),
    requestId: c.get('requestId'),
    startedAt: c.get('startedAt'),
  });
  reportTimings(c, prediction);
  const { served } = prediction;
  return c.json({ predictions: prediction.predictions!, model: served.modelName, model_version: served.version }, 200);
}

const route = (path: '/v1/models/{name}/predict' | '/v1/models/{name}/versions/{version}/predict') =>
  defineRoute(
    { access: 'predict', budget: 'prediction', body: 'tensors', errors: [404] },
    {
      method: 'post',
      path,
      tags: ['Inference'],
      summary: path.includes('{version}') ? 'Predict with a version or alias' : 'Predict',
      description: [
        'The friendly prediction API: `instances` holds one JSON record per row. For a model with one `[batch, features]` input and feature names, a record is an object keyed by feature name; otherwise an object keyed by input name, or an array in signature order.',
        'Answers one prediction per instance. For classifiers with class labels, each prediction carries the label and the class probabilities. Without a version: the `production` alias, else the latest version. Caching, `Modelflare-Routing-Key` and headers as for V2 infer.',
      ].join('\n\n'),
      request: {
        params: path.includes('{version}') ? VersionParams : ModelParam,
        body: { required: true, content: { 'application/json': { schema: PredictRequest } } },
      },
      responses: {
        200: jsonContent(PredictResponse, 'One prediction per instance'),
      },
    },
  );

export const predictRoutes = newRouter()
  .openapi(route('/v1/models/{name}/predict'), (c) =>
    predictRecords(c, c.req.valid('param').name, undefined, c.req.valid('json').instances),
  )
  .openapi(route('/v1/models/{name}/versions/{version}/predict'), (c) => {
    const { name, version } = c.req.valid('param') as { name: string; version: string };
    return predictRecords(c, name, version, c.req.valid('json').instances);
  });
