// Registry operations during traffic: new versions, alias moves, archives. They run one at a
// time (registry.exclusive queues them), so the soak always knows which answers are legitimate.
import { isErrorEnvelope } from './client.mjs';
import { affineModel } from './models.mjs';
import { MODEL } from './predictions.mjs';

/** Live versions kept callable; older ones are archived once nothing needs them. */
const KEEP = 4;

/** Uploads the next version (its offset is its number) and checks that it serves. */
export function uploadVersion(ctx) {
  return ctx.registry.exclusive(async () => {
    const next = Math.max(...ctx.registry.offsets.keys()) + 1;
    const settle = ctx.registry.uploading(next);
    const res = await ctx.send('upload', 'POST', `/v1/models/${MODEL}/versions`, {
      token: ctx.keys.admin,
      body: affineModel(next),
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (res.status !== 201 || res.body?.version !== next) {
      ctx.tally.fail('upload', `expected 201 with version ${next}, got ${res.status} ${res.text.slice(0, 300)}`);
      settle(false);
      return;
    }
    settle(true);
    await archiveSurplus(ctx);
  });
}

/** The oldest callable version that is neither the alias's target nor needed by running work. */
async function archiveSurplus(ctx) {
  const live = ctx.registry.callableVersions().sort((a, b) => a - b);
  if (live.length <= KEEP) return;
  const oldest = live.find((v) => v !== ctx.registry.aliasTarget && v !== live.at(-1));
  if (oldest === undefined) return;
  ctx.registry.retire(oldest);
  while (ctx.inFlight.needs(oldest)) await new Promise((r) => setTimeout(r, 20));
  const res = await ctx.send('archive', 'DELETE', `/v1/models/${MODEL}/versions/${oldest}`, { token: ctx.keys.admin });
  if (res.status !== 200) ctx.tally.fail('archive', `archive ${oldest}: ${res.status} ${res.text.slice(0, 300)}`);
  // Archived versions refuse predictions with a 4xx: checked once, on the version just archived.
  const refused = await ctx.send('archive.check', 'POST', `/v2/models/${MODEL}/versions/${oldest}/infer`, {
    token: ctx.keys.predict,
    json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] },
  });
  if (refused.status < 400 || refused.status >= 500 || !isErrorEnvelope(refused.body)) {
    ctx.tally.fail(
      'archive.check',
      `archived version ${oldest} answered ${refused.status} ${refused.text.slice(0, 200)}`,
    );
  }
}

/** Points `production` at another callable version. */
export function moveAlias(ctx) {
  return ctx.registry.exclusive(async () => {
    const choices = ctx.registry.callableVersions().filter((v) => v !== ctx.registry.aliasTarget);
    if (choices.length === 0) return;
    const to = choices[Math.floor(ctx.random() * choices.length)];
    const settle = ctx.registry.aliasMoving(to);
    const res = await ctx.send('alias', 'PUT', `/v1/models/${MODEL}/aliases/production`, {
      token: ctx.keys.admin,
      json: { version: to },
    });
    if (res.status !== 200 || res.body?.version !== to) {
      ctx.tally.fail('alias', `move to ${to}: ${res.status} ${res.text.slice(0, 300)}`);
      settle(false);
      return;
    }
    settle(true);
  });
}
