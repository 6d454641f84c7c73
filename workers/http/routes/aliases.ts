import { z } from '@hono/zod-openapi';
import { deleteAlias, getAlias, setAlias, type AliasSpec, type AliasState } from '../../registry/aliases';
import { announce } from '../announce';
import { audit } from '../audit';
import { presentAlias } from '../presenters/rollouts';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { AliasName, ModelName, jsonContent } from '../schemas/common';
import { AliasChange } from '../schemas/registry';
import { AliasBody, AliasSetView, AliasView } from '../schemas/rollouts';

export const AliasParams = z.object({
  name: ModelName.openapi({ param: { name: 'name', in: 'path' } }),
  alias: AliasName.openapi({ param: { name: 'alias', in: 'path' } }),
});

const specOf = (body: z.infer<typeof AliasBody>): AliasSpec => ({
  routes: body.routes ?? [{ version: body.version!, weight: 100 }],
  shadow: body.shadow ?? null,
  guard: body.guard ?? null,
  steps: body.steps ?? null,
  stepMinutes: body.step_minutes ?? null,
});

/** What serves the alias: a change to it is an alias move for webhooks. */
const serving = (s: AliasState | undefined) =>
  s && JSON.stringify([s.version, s.routes?.map((r) => [r.version, r.weight]) ?? null, s.shadow]);

const setDescription = [
  'Points the alias (for example `production` or `staging`) at one version (`{"version": 3}`), or splits its traffic between 2 to 5 versions (`routes`, integer weights adding up to 100). Every caller of the alias follows it: V2 infer by alias or by model name (the `production` alias), the instances API; batch jobs pin the first route.',
  'With a split, requests carrying `Modelflare-Routing-Key` keep their route while the weights stand (raising a candidate moves keys to it only); others are assigned at random by weight; the answer names the version and `Modelflare-Route` the route. `shadow` mirrors `percent` of the requests to another version after the answer is sent, and compares. `guard` sends the alias back to its first route when a later route breaks a limit; `steps` move the last route to the next weight every `step_minutes` while the guard holds, and at 100 make the alias plain on that version.',
  'Archived versions, and versions the model does not have, are refused with the version named. A new setting replaces the whole alias (routes, shadow, guard, steps).',
].join('\n\n');

export const aliasRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [404, 409] },
      {
        method: 'put',
        path: '/v1/models/{name}/aliases/{alias}',
        tags: ['Registry'],
        summary: 'Set, move or split an alias',
        description: setDescription,
        request: {
          params: AliasParams,
          body: { required: true, content: { 'application/json': { schema: AliasBody } } },
        },
        responses: { 200: jsonContent(AliasSetView, 'The alias as it now stands') },
      },
    ),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      const spec = specOf(c.req.valid('json'));
      const { state, previous } = await setAlias(c.get('deps'), scopeOf(c), name, alias, spec);
      Object.assign(c.get('access'), { model: name, version: state.version });
      const view = { ...presentAlias(state), previous_version: previous?.version ?? null };
      if (serving(previous) !== serving(state)) {
        await announce(c, 'alias.moved', {
          model: name,
          alias,
          version: state.version,
          previous_version: view.previous_version,
          ...(state.routes ? { routes: view.routes } : {}),
          ...(state.shadow ? { shadow: state.shadow } : {}),
        });
      }
      await audit(c, {
        action: 'alias.set',
        target: `model:${name}/alias:${alias}`,
        details: {
          version: state.version,
          previous_version: view.previous_version,
          ...(view.routes ? { routes: view.routes } : {}),
          ...(state.shadow ? { shadow: state.shadow } : {}),
          ...(state.guard ? { guard: state.guard } : {}),
          ...(state.steps ? { steps: state.steps, step_minutes: state.stepMinutes } : {}),
        },
      });
      return c.json(view, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/aliases/{alias}',
        tags: ['Registry'],
        summary: 'Read an alias',
        description:
          'The alias: its version, or its routes with their current weights, shadow, guard and steps, and its state (`plain`, `split`, `ramping` with the next step and when, or `rolled_back` with why).',
        request: { params: AliasParams },
        responses: { 200: jsonContent(AliasView, 'The alias') },
      },
    ),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      c.get('access').model = name;
      return c.json(presentAlias(await getAlias(c.get('deps'), scopeOf(c), name, alias)), 200);
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
        description: 'Removes the alias (and its routes, shadow, guard and steps); the versions are untouched.',
        request: { params: AliasParams },
        responses: { 200: jsonContent(AliasChange, 'The alias change') },
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
      return c.json({ model: name, alias, version: null, previous_version: change.previousVersion }, 200);
    },
  );
