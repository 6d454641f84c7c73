// Prediction operations and what each answer must be: the reported version is one the request
// could have reached, and the numbers are that version's (y = 2·x + version).
import { isErrorEnvelope } from './client.mjs';
import { WIDTH, expectedRow, sameRow } from './models.mjs';

export const MODEL = 'soak-affine';

function randomRows(random, count) {
  return Array.from({ length: count }, () =>
    Array.from({ length: WIDTH }, () => Math.round((random() * 200 - 100) * 1000) / 1000),
  );
}

/** Request bodies repeated across the run, so the prediction cache answers some of them. */
export function rowPool(random) {
  return Array.from({ length: 16 }, (_, i) => randomRows(random, 1 + (i % 8)));
}

function rowsFor(ctx) {
  if (ctx.random() < 0.5) return ctx.pool[Math.floor(ctx.random() * ctx.pool.length)];
  return randomRows(ctx.random, 1 + Math.floor(ctx.random() * 8));
}

/**
 * Where the request goes and which versions may answer it: the alias, a pinned number,
 * `latest`, or no version at all (which means the `production` alias when the model has one).
 */
function target(ctx) {
  const roll = ctx.random();
  if (roll < 0.3) return { path: 'versions/production', needs: 'alias' };
  if (roll < 0.4) return { path: null, needs: 'alias' };
  if (roll < 0.8) {
    const version = ctx.registry.pick(ctx.random);
    return { path: `versions/${version}`, needs: version };
  }
  return { path: 'versions/latest', needs: 'latest' };
}

function allowedVersions(ctx, needs, t0, t1, latestAtStart) {
  if (needs === 'alias') return ctx.registry.aliasTargetsBetween(t0, t1);
  if (needs === 'latest') return new Set([...ctx.registry.offsets.keys()].filter((v) => v >= latestAtStart));
  return new Set([needs]);
}

function checkRows(ctx, op, rows, version, actualRows, allowed) {
  if (!allowed.has(version)) {
    ctx.tally.fail(op, `answered by version ${version}, expected one of ${[...allowed].join(', ')}`);
    return;
  }
  rows.forEach((row, i) => {
    if (!sameRow(actualRows[i], expectedRow(row, version))) {
      ctx.tally.fail(
        op,
        `version ${version} row ${i}: ${JSON.stringify(actualRows[i])} is not 2·${JSON.stringify(row)}+${version}`,
      );
    }
  });
  if (actualRows.length !== rows.length) ctx.tally.fail(op, `${actualRows.length} rows answered for ${rows.length}`);
}

async function predict(ctx, op, build, read) {
  const rows = rowsFor(ctx);
  const { path, needs } = target(ctx);
  const latestAtStart = ctx.registry.latest;
  const end = ctx.inFlight.begin(needs === 'latest' ? latestAtStart : needs);
  const t0 = Date.now();
  try {
    const { url, json } = build(path, rows);
    const res = await ctx.send(op, 'POST', url, { token: ctx.keys.predict, json });
    const t1 = Date.now();
    if (res.status !== 200) {
      ctx.tally.fail(op, `POST ${url}: ${res.status} ${res.text.slice(0, 300)}`);
      return;
    }
    const { version, actualRows } = read(res.body, rows.length);
    checkRows(ctx, op, rows, version, actualRows, allowedVersions(ctx, needs, t0, t1, latestAtStart));
  } finally {
    end();
  }
}

/** Open Inference Protocol V2. */
export const predictV2 = (ctx) =>
  predict(
    ctx,
    'predict.v2',
    (path, rows) => ({
      url: `/v2/models/${MODEL}${path ? `/${path}` : ''}/infer`,
      json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, WIDTH], data: rows.flat() }] },
    }),
    (body, count) => {
      const y = body.outputs?.find((o) => o.name === 'y');
      const data = y?.data ?? [];
      return {
        version: Number(body.model_version),
        actualRows: Array.from({ length: Math.min(count, data.length / WIDTH) }, (_, i) =>
          data.slice(i * WIDTH, (i + 1) * WIDTH),
        ),
      };
    },
  );

/** The instances API: one prediction per row. */
export const predictInstances = (ctx) =>
  predict(
    ctx,
    'predict.instances',
    (path, rows) => ({ url: `/v1/models/${MODEL}${path ? `/${path}` : ''}/predict`, json: { instances: rows } }),
    (body) => ({ version: Number(body.model_version), actualRows: body.predictions ?? [] }),
  );

/** Over MAX_PREDICT_BODY_BYTES (8 MiB by default). */
const OVERSIZE = `{"pad":"${'x'.repeat(9 * 2 ** 20)}"}`;
const ROW = { name: 'x', datatype: 'FP32', shape: [1, WIDTH], data: [1, 2, 3, 4] };

/** Requests a client gets wrong, and the 4xx each must answer, in the error envelope. */
const BAD_REQUESTS = [
  [
    'wrong shape',
    400,
    () => ({
      path: `/v2/models/${MODEL}/infer`,
      json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] },
    }),
  ],
  [
    'unknown datatype',
    400,
    () => ({
      path: `/v2/models/${MODEL}/infer`,
      json: { inputs: [{ name: 'x', datatype: 'FP99', shape: [1, 4], data: [1, 2, 3, 4] }] },
    }),
  ],
  [
    'data length',
    400,
    () => ({
      path: `/v2/models/${MODEL}/infer`,
      json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3] }] },
    }),
  ],
  [
    'not JSON',
    400,
    () => ({
      path: `/v2/models/${MODEL}/infer`,
      body: '{"inputs": [',
      headers: { 'content-type': 'application/json' },
    }),
  ],
  ['no instances', 400, () => ({ path: `/v1/models/${MODEL}/predict`, json: { rows: [[1, 2, 3, 4]] } })],
  ['unknown model', 404, () => ({ path: '/v2/models/no-such-model/infer', json: { inputs: [ROW] } })],
  [
    'unknown version',
    404,
    () => ({
      path: `/v2/models/${MODEL}/versions/99999/infer`,
      json: { inputs: [ROW] },
    }),
  ],
  ['no credential', 401, () => ({ path: `/v2/models/${MODEL}/infer`, token: null, json: { inputs: [] } })],
  ['wrong scope', 403, () => ({ path: '/v1/models', method: 'GET' })],
  [
    'body too large',
    413,
    () => ({
      path: `/v2/models/${MODEL}/infer`,
      body: OVERSIZE,
      headers: { 'content-type': 'application/json' },
      mayClose: true,
    }),
  ],
];

export async function badRequest(ctx) {
  const [what, status, make] = BAD_REQUESTS[Math.floor(ctx.random() * BAD_REQUESTS.length)];
  const { path, method = 'POST', token = ctx.keys.predict, ...rest } = make(ctx);
  const res = await ctx.send('bad-input', method, path, { token, ...rest });
  if (res.status === 'closed') return;
  if (res.status !== status || !isErrorEnvelope(res.body)) {
    ctx.tally.fail(
      'bad-input',
      `${what}: expected ${status} in the envelope, got ${res.status} ${res.text.slice(0, 200)}`,
    );
  }
}
