import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { call, callJson, inWorkspace, registerUser, uniqueName, uploadRaw } from '../helpers';
import { regressorWithBias, uploadVersions } from '../concurrency/regressor-versions';
import { putAlias } from './support';

/*
 * The alias API with routes: what a split, its shadow, guard and steps look like, every refusal
 * with the message that names what is wrong (and nothing written), archived and other
 * workspaces' versions, and what archiving and purging do around split aliases.
 */

const SPLIT = {
  routes: [
    { version: 1, weight: 90 },
    { version: 2, weight: 10 },
  ],
  shadow: { version: 3, percent: 25 },
  guard: { min_requests: 200, max_error_rate: 0.02, max_p99_ms: 250, max_accuracy_drop: 0.05 },
  steps: [10, 25, 50, 100],
  step_minutes: 30,
};

async function threeVersions(prefix = 'split'): Promise<string> {
  const name = uniqueName(prefix);
  await uploadVersions(name, [1, 2, 3]);
  return name;
}

const aliasRow = (name: string, alias: string) =>
  env.DB.prepare(
    `select a.revision, a.guard, a.steps, (select count(*) from model_alias_routes r where r.model_id = a.model_id and r.alias = a.alias) as routes
     from model_aliases a join models m on m.id = a.model_id where m.name = ? and a.alias = ?`,
  )
    .bind(name, alias)
    .first<{ revision: number; guard: string | null; steps: string | null; routes: number }>();

describe('alias routes', { timeout: 60_000 }, () => {
  it('sets a split with a shadow, guard and steps, and reads it back with its state', async () => {
    const name = await threeVersions();
    const set = await putAlias(name, 'production', SPLIT);
    expect(set).toMatchObject({
      model: name,
      alias: 'production',
      version: 1,
      previous_version: null,
      routes: SPLIT.routes,
      shadow: SPLIT.shadow,
      guard: SPLIT.guard,
      steps: SPLIT.steps,
      step_minutes: 30,
      state: { status: 'ramping', revision: 1, next_step: 25, rolled_back_at: null, rollback: null },
    });
    // The next step is due step_minutes after the weights were set.
    expect(Date.parse(set.state.next_step_at) - Date.parse(set.state.weights_changed_at)).toBe(30 * 60000);
    const { previous_version: _, ...view } = set;
    expect(await callJson('GET', `/v1/models/${name}/aliases/production`, 200)).toEqual(view);
    // Single-version readers get the first route: the model's alias list and /versions/{alias}.
    expect((await callJson('GET', `/v1/models/${name}`, 200)).aliases).toEqual({ production: 1 });
    expect((await callJson('GET', `/v1/models/${name}/versions/production`, 200)).version).toBe(1);

    // Without steps a split is just split; a plain setting replaces the whole of it.
    const split = await putAlias(name, 'production', { routes: SPLIT.routes });
    expect(split).toMatchObject({
      shadow: null,
      guard: null,
      steps: null,
      state: { status: 'split', next_step: null },
    });
    const plain = await putAlias(name, 'production', { version: 3 });
    expect(plain).toMatchObject({ version: 3, previous_version: 1, routes: null, shadow: null });
    expect(plain.state).toMatchObject({ status: 'plain', revision: 3, split_at: null });
    expect(await aliasRow(name, 'production')).toEqual({ revision: 3, guard: null, steps: null, routes: 0 });
    // One version may have a shadow too.
    const mirrored = await putAlias(name, 'production', { version: 3, shadow: { version: 1, percent: 100 } });
    expect(mirrored).toMatchObject({ routes: null, shadow: { version: 1, percent: 100 }, state: { status: 'plain' } });
  });

  it('refuses bodies that break a rule, naming it, and writes nothing', async () => {
    const name = await threeVersions('refuse');
    await putAlias(name, 'production', { version: 1 });
    const before = await aliasRow(name, 'production');
    const routes = (...weights: number[]) => weights.map((weight, i) => ({ version: i + 1, weight }));
    const cases: [unknown, string][] = [
      [
        { routes: routes(100) },
        'request body \'routes\': a split needs 2 to 5 routes (for one version, send "version")',
      ],
      [
        { routes: [1, 2, 3, 4, 5, 6].map((version) => ({ version, weight: version === 1 ? 95 : 1 })) },
        "request body 'routes': a split has at most 5 routes",
      ],
      [{ routes: routes(90, 5) }, "request body 'routes': weights must add up to 100; these add up to 95"],
      [{ routes: routes(89.5, 10.5) }, "request body 'routes[0].weight': weights are whole percents"],
      [
        {
          routes: [
            { version: 1, weight: 50 },
            { version: 1, weight: 50 },
          ],
        },
        "request body 'routes[1].version': version 1 is given twice",
      ],
      [
        { version: 1, routes: routes(50, 50) },
        'request body: give "version" (one version) or "routes" (a split), not both',
      ],
      [{}, 'request body: give "version" or "routes"'],
      [
        { routes: routes(50, 50), shadow: { version: 2, percent: 10 } },
        "request body 'shadow.version': version 2 already serves the alias; a shadow is another version",
      ],
      [{ version: 1, shadow: { version: 2, percent: 0 } }, "request body 'shadow.percent': percent must be above 0"],
      [
        { version: 1, guard: { min_requests: 10, max_error_rate: 0.1 } },
        'request body \'guard\': a guard needs "routes": it judges the routes after the first',
      ],
      [
        { routes: routes(50, 50), guard: { min_requests: 10 } },
        "request body 'guard': a guard needs at least one limit: max_error_rate, max_p99_ms or max_accuracy_drop",
      ],
      [{ routes: routes(50, 50), steps: [10, 50] }, 'request body \'steps\': "steps" and "step_minutes" go together'],
      [
        { routes: routes(90, 10), steps: [50, 25], step_minutes: 5 },
        "request body 'steps': steps must rise strictly (for example [10, 25, 50, 100])",
      ],
      [
        { version: 1, steps: [50], step_minutes: 5 },
        'request body \'steps\': steps need "routes": they ramp the last route',
      ],
      [{ routes: routes(50, 50), weights: [50, 50] }, 'weights'],
    ];
    for (const [body, message] of cases) {
      const refused = await putAlias(name, 'production', body, 400);
      expect(refused.error.code, JSON.stringify(body)).toBe('invalid_argument');
      expect(refused.error.message, JSON.stringify(body)).toContain(message);
    }
    expect(await aliasRow(name, 'production')).toEqual(before);
  });

  it('refuses versions the model lacks and archived ones, naming them; nothing is written', async () => {
    const name = await threeVersions('versions');
    await putAlias(name, 'production', { version: 1 });
    const before = await aliasRow(name, 'production');
    const missing = await putAlias(
      name,
      'production',
      {
        routes: [
          { version: 1, weight: 50 },
          { version: 9, weight: 50 },
        ],
      },
      404,
    );
    expect(missing.error).toMatchObject({ code: 'version_not_found', message: `model '${name}' has no version 9` });
    await callJson('DELETE', `/v1/models/${name}/versions/3`, 200);
    const archivedRoute = await putAlias(
      name,
      'production',
      {
        routes: [
          { version: 1, weight: 50 },
          { version: 3, weight: 50 },
        ],
      },
      409,
    );
    expect(archivedRoute.error).toMatchObject({
      code: 'version_archived',
      message: "alias 'production' cannot route traffic to version 3: it is archived",
    });
    const archivedShadow = await putAlias(name, 'production', { version: 2, shadow: { version: 3, percent: 5 } }, 409);
    expect(archivedShadow.error.message).toBe("alias 'production' cannot mirror to version 3: it is archived");
    expect(await aliasRow(name, 'production')).toEqual(before);
    expect((await callJson('GET', `/v1/models/${name}/aliases/production`, 200)).version).toBe(1);
  });

  it('keeps versions of another workspace out of reach', async () => {
    const owner = await registerUser('owner');
    const other = await registerUser('other');
    const name = uniqueName('tenant');
    for (const bias of [1, 2, 3]) {
      expect((await uploadRaw(name, regressorWithBias(bias), { token: owner.token })).status).toBe(201);
    }
    // The other workspace has a model of the same name with one version: 2 and 3 are the owner's.
    expect((await uploadRaw(name, regressorWithBias(9), { token: other.token })).status).toBe(201);
    const split = {
      routes: [
        { version: 1, weight: 50 },
        { version: 3, weight: 50 },
      ],
    };
    const refused = await putAlias(name, 'production', split, 404, other.token);
    expect(refused.error.message).toBe(`model '${name}' has no version 3`);
    const shadowed = await putAlias(
      name,
      'production',
      { version: 1, shadow: { version: 2, percent: 50 } },
      404,
      other.token,
    );
    expect(shadowed.error.message).toBe(`model '${name}' has no version 2`);
    // The owner's split is the owner's: the other workspace neither reads nor moves it.
    await putAlias(name, 'production', split, 200, owner.token);
    const hidden = await callJson('GET', `/v1/models/${name}/aliases/production`, 404, { token: other.token });
    expect(hidden.error.code).toBe('alias_not_found');
    const elsewhere = uniqueName('absent');
    expect((await putAlias(elsewhere, 'production', split, 404, other.token)).error.code).toBe('model_not_found');
    const rollback = await callJson('POST', `/v1/models/${name}/aliases/production/rollback`, 404, {
      token: other.token,
    });
    expect(rollback.error.code).toBe('alias_not_found');
    const ownerView = await callJson('GET', `/v1/models/${name}/aliases/production`, 200, {
      token: owner.token,
      headers: inWorkspace(owner.workspaceId),
    });
    expect(ownerView.state.status).toBe('split');
  });

  it('keeps a version that routes or mirrors traffic from being archived; delete and purge take the routes along', async () => {
    const name = await threeVersions('archive');
    await putAlias(name, 'production', {
      routes: [
        { version: 1, weight: 60 },
        { version: 2, weight: 40 },
      ],
      shadow: { version: 3, percent: 10 },
    });
    const routed = await callJson('DELETE', `/v1/models/${name}/versions/2`, 409);
    expect(routed.error).toMatchObject({ code: 'version_has_aliases' });
    expect(routed.error.message).toBe(
      "version 2 cannot be archived while alias 'production' routes traffic to it; move the alias first",
    );
    expect((await callJson('DELETE', `/v1/models/${name}/versions/3`, 409)).error.message).toBe(
      "version 3 cannot be archived while alias 'production' mirrors traffic to it; move the alias first",
    );
    await putAlias(name, 'staging', { version: 2 });
    expect((await callJson('DELETE', `/v1/models/${name}/versions/2`, 409)).error.message).toBe(
      "version 2 cannot be archived while aliases 'production' (routes traffic to it), 'staging' (points at it) use it; move the alias first",
    );
    await callJson('DELETE', `/v1/models/${name}/aliases/staging`, 200);
    const removed = await callJson('DELETE', `/v1/models/${name}/aliases/production`, 200);
    expect(removed).toEqual({ model: name, alias: 'production', version: null, previous_version: 1 });
    expect(await aliasRow(name, 'production')).toBeNull();
    await callJson('DELETE', `/v1/models/${name}/versions/2`, 200);

    await putAlias(name, 'staging', {
      routes: [
        { version: 1, weight: 50 },
        { version: 3, weight: 50 },
      ],
    });
    expect((await call('DELETE', `/v1/models/${name}?purge=true`)).status).toBe(204);
    const left = await env.DB.prepare(
      `select count(*) as n from model_alias_routes r where not exists (select 1 from models m where m.id = r.model_id)`,
    ).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });
});
