import { z } from '@hono/zod-openapi';
import { createModel, getModel, listModels, updateModel, type ModelFields } from '../../registry/models';
import { purgeModelAndData } from '../../monitoring/purge-model';
import { audit } from '../audit';
import { presentModel } from '../presenters/registry';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { BooleanQuery, Cursor, Limit, ModelName, jsonContent } from '../schemas/common';
import { CreateModelBody, Model, ModelFieldsBody, ModelList, UpdateModelBody } from '../schemas/registry';

const NameParam = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' } }) });

export function modelFieldsFrom(body: z.infer<typeof ModelFieldsBody>): ModelFields {
  return {
    description: body.description,
    task: body.task,
    tags: body.tags,
    featureNames: body.feature_names,
    classLabels: body.class_labels,
    cacheEnabled: body.cache?.enabled,
    cacheTtlSeconds: body.cache?.ttl_seconds,
    cacheShared: body.cache?.shared,
    cacheSharedTimeoutMs: body.cache?.shared_timeout_ms,
    logSampleRate: body.monitoring?.log_sample_rate,
    driftPsiThreshold: body.monitoring?.drift?.psi_threshold,
    driftKsThreshold: body.monitoring?.drift?.ks_threshold,
    driftWindowHours: body.monitoring?.drift?.window_hours,
  };
}

export const modelRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [409] },
      {
        method: 'post',
        path: '/v1/models',
        tags: ['Registry'],
        summary: 'Create a model',
        description:
          'Creates an empty model with its metadata. Uploading a first version creates the model too; create it first to set feature names, class labels or the task.',
        request: {
          body: { required: true, content: { 'application/json': { schema: CreateModelBody } } },
        },
        responses: { 201: jsonContent(Model, 'Created') },
      },
    ),
    async (c) => {
      const { name, ...body } = c.req.valid('json');
      c.get('access').model = name;
      const model = await createModel(c.get('deps'), scopeOf(c), name, modelFieldsFrom(body));
      await audit(c, { action: 'model.create', target: `model:${name}` });
      return c.json(presentModel(model), 201);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/models',
        tags: ['Registry'],
        summary: 'List models',
        description: 'Models of the caller’s workspace in name order, a page at a time.',
        request: {
          query: z.object({
            limit: Limit,
            cursor: Cursor,
            name_prefix: z.string().max(64).optional().openapi({ description: 'Only names starting with this' }),
            tag: z
              .union([z.string(), z.array(z.string())])
              .optional()
              .openapi({ description: '`key` or `key=value`; repeat to require several' }),
            task: z.enum(['classification', 'regression', 'other']).optional(),
            include_archived: BooleanQuery.openapi({ type: 'string', enum: ['true', 'false'] }),
          }),
        },
        responses: { 200: jsonContent(ModelList, 'A page of models') },
      },
    ),
    async (c) => {
      const q = c.req.valid('query');
      const tags = q.tag === undefined ? [] : Array.isArray(q.tag) ? q.tag : [q.tag];
      const page = await listModels(c.get('deps'), scopeOf(c), {
        limit: q.limit,
        cursor: q.cursor,
        namePrefix: q.name_prefix,
        tags,
        task: q.task,
        includeArchived: q.include_archived,
      });
      return c.json({ models: page.models.map(presentModel), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}',
        tags: ['Registry'],
        summary: 'Get a model',
        description: 'The model with its latest version and aliases. Archived models are returned too.',
        request: { params: NameParam },
        responses: { 200: jsonContent(Model, 'The model') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      c.get('access').model = name;
      return c.json(presentModel(await getModel(c.get('deps'), scopeOf(c), name)), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [404] },
      {
        method: 'patch',
        path: '/v1/models/{name}',
        tags: ['Registry'],
        summary: 'Update a model',
        description: 'Changes metadata or cache settings; `"archived": false` restores an archived model.',
        request: {
          params: NameParam,
          body: { required: true, content: { 'application/json': { schema: UpdateModelBody } } },
        },
        responses: { 200: jsonContent(Model, 'The updated model') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const body = c.req.valid('json');
      c.get('access').model = name;
      const model = await updateModel(c.get('deps'), scopeOf(c), name, {
        ...modelFieldsFrom(body),
        archived: body.archived,
      });
      await audit(c, { action: 'model.update', target: `model:${name}`, details: { fields: Object.keys(body) } });
      return c.json(presentModel(model), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'delete',
        path: '/v1/models/{name}',
        tags: ['Registry'],
        summary: 'Archive or purge a model',
        description:
          'Archives the model: it stops serving and leaves listings, and its files are kept. With `purge=true` the model, its versions, aliases and files are deleted for good and the name is free again.',
        request: {
          params: NameParam,
          query: z.object({ purge: BooleanQuery.openapi({ type: 'string', enum: ['true', 'false'] }) }),
        },
        responses: {
          200: jsonContent(Model, 'The archived model'),
          204: { description: 'Purged' },
        },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      c.get('access').model = name;
      if (c.req.valid('query').purge) {
        const purged = await purgeModelAndData(c.get('deps'), scopeOf(c), name);
        await audit(c, { action: 'model.purge', target: `model:${name}`, details: purged });
        return c.body(null, 204);
      }
      const model = await updateModel(c.get('deps'), scopeOf(c), name, { archived: true });
      await audit(c, { action: 'model.archive', target: `model:${name}` });
      return c.json(presentModel(model), 200);
    },
  );
