import { z } from '@hono/zod-openapi';
import { deleteAlias, setAlias, type AliasChange as Change } from '../../registry/aliases';
import { announce } from '../announce';
import { audit } from '../audit';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { AliasName, ModelName, jsonContent } from '../schemas/common';
import { AliasBody, AliasChange } from '../schemas/registry';

const AliasParams = z.object({
  name: ModelName.openapi({ param: { name: 'name', in: 'path' } }),
  alias: AliasName.openapi({ param: { name: 'alias', in: 'path' } }),
});
const ok = jsonContent(AliasChange, 'The alias change');
const present = (model: string, change: Change) => ({
  model,
  alias: change.alias,
  version: change.version,
  previous_version: change.previousVersion,
});

export const aliasRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [404, 409] },
      {
        method: 'put',
        path: '/v1/models/{name}/aliases/{alias}',
        tags: ['Registry'],
        summary: 'Set or move an alias',
        description:
          'Points the alias (for example `production` or `staging`) at a version. Clients calling `/versions/{alias}` follow it from then on. Archived versions cannot be targets.',
        request: {
          params: AliasParams,
          body: { required: true, content: { 'application/json': { schema: AliasBody } } },
        },
        responses: { 200: ok },
      },
    ),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      const { version } = c.req.valid('json');
      Object.assign(c.get('access'), { model: name, version });
      const change = await setAlias(c.get('deps'), scopeOf(c), name, alias, version);
      if (change.previousVersion !== change.version) {
        await announce(c, 'alias.moved', present(name, change));
      }
      await audit(c, {
        action: 'alias.set',
        target: `model:${name}/alias:${alias}`,
        details: { version: change.version, previous_version: change.previousVersion },
      });
      return c.json(present(name, change), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'delete',
        path: '/v1/models/{name}/aliases/{alias}',
        tags: ['Registry'],
        summary: 'Remove an alias',
        description: 'Removes the alias; the version it pointed at is untouched.',
        request: { params: AliasParams },
        responses: { 200: ok },
      },
    ),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      c.get('access').model = name;
      const change = await deleteAlias(c.get('deps'), scopeOf(c), name, alias);
      await audit(c, {
        action: 'alias.delete',
        target: `model:${name}/alias:${alias}`,
        details: { previous_version: change.previousVersion },
      });
      return c.json(present(name, change), 200);
    },
  );
