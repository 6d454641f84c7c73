import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requireUpload } from '../../batch/uploads';
import { authenticate, bearerToken } from '../../auth/authenticate';
import { secretsEqual } from '../../auth/constant-time';
import { invalidInput, permissionDenied } from '../../core/errors';
import { resolveServed } from '../../inference/served-versions';
import { findBaseline, getBaseline, setBaselineFromRows, startCapture } from '../../monitoring/drift/baselines';
import { checkDrift, latestReport, reportHistory } from '../../monitoring/drift/report';
import { readTotals } from '../../monitoring/metrics-store';
import { modelPerformance } from '../../monitoring/performance';
import { feedbackFor, listPredictions, recordFeedback, requirePrediction } from '../../monitoring/predictions';
import { readGauges } from '../../monitoring/gauges';
import { exposition } from '../../monitoring/prometheus';
import { routeExposition } from '../../monitoring/route-metrics';
import { modelStats } from '../../monitoring/stats';
import { requireModel } from '../../registry/models';
import type { AppEnv } from '../app-env';
import { defineRoute } from '../route';
import {
  presentBaseline,
  presentPerformance,
  presentPrediction,
  presentReport,
  presentStats,
} from '../presenters/monitoring';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { Cursor, Limit, ModelName, VersionRef, jsonContent } from '../schemas/common';
import {
  Baseline,
  BaselineBody,
  DriftHistory,
  DriftReport,
  DriftStatus,
  FeedbackAccepted,
  FeedbackBody,
  Performance,
  PredictionList,
  Prediction,
  Stats,
  Window,
} from '../schemas/monitoring';

const NameParam = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' } }) });
const VersionParams = NameParam.extend({ version: VersionRef.openapi({ param: { name: 'version', in: 'path' } }) });
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const VersionQuery = VersionRef.optional().openapi({ description: 'A version number or alias; default: all versions' });

/** The version number a `version` query names, resolved within the caller's workspace. */
async function versionNumber(c: Context<AppEnv>, model: string, ref: string | undefined): Promise<number | undefined> {
  if (ref === undefined) return undefined;
  return (await resolveServed(c.get('deps'), scopeOf(c), model, ref)).version;
}

/**
 * Who may scrape /metrics, and what they see: the admin key or METRICS_SCRAPE_TOKEN see every
 * workspace; a workspace admin (user or key with `admin`) sees their own.
 */
async function scrapeScope(c: Context<AppEnv>): Promise<string | undefined> {
  const token = bearerToken(c.req.header('authorization'));
  const scrapeToken = c.get('deps').config.METRICS_SCRAPE_TOKEN;
  if (token && scrapeToken && (await secretsEqual(token, scrapeToken))) return undefined;
  const principal = await authenticate(c.get('deps'), {
    authorization: c.req.header('authorization'),
    workspaceId: undefined,
  });
  if (principal.kind === 'admin') return undefined;
  if (!principal.permissions.has('admin')) throw permissionDenied("reading /metrics needs the 'admin' permission");
  return principal.workspaceId;
}

export const monitoringRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'own-credential', budget: 'scrape', body: 'none' },
      {
        method: 'get',
        path: '/metrics',
        tags: ['Monitoring'],
        summary: 'Prometheus metrics',
        description:
          'Counters and histograms per workspace, model and version in the Prometheus text format: requests by outcome, rows, latency histogram (seconds), cache hits/misses/bypasses, batch rows, model loads; for split aliases the same per route (labels `alias`, `route`, `version`) and the shadow’s comparisons. Gauges: PSI and KS per feature from each version’s latest drift report, accuracy or MAE from feedback over the last 24 hours, and whether each alert rule fires. The admin key or METRICS_SCRAPE_TOKEN see every workspace; a workspace admin key sees its own.',
        responses: {
          200: {
            description: 'Prometheus text exposition 0.0.4',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    ),
    async (c) => {
      const workspace = await scrapeScope(c);
      await c.get('deps').metrics.flush(c.get('deps').db);
      const deps = c.get('deps');
      await deps.routeMetrics.flush(deps);
      const text =
        exposition(await readTotals(deps.db, workspace), await readGauges(deps.db, workspace)) +
        (await routeExposition(deps.db, workspace));
      return c.body(text, 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }) as never;
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/stats',
        tags: ['Monitoring'],
        summary: 'Model traffic statistics',
        description:
          'Requests, rows, errors by class, latency percentiles, cache hit ratio, batch rows and model loads over a window ending now, in total, per version, and as 60 to 120 points in time (buckets of a round size that start at multiples of it, so points stay put between calls). With `by=version`, each version carries its own points too.',
        request: {
          params: NameParam,
          query: z.object({
            window: Window.optional().openapi({ description: 'Default 1h' }),
            version: VersionQuery,
            by: z
              .enum(['version'])
              .optional()
              .openapi({ description: '`version`: a series per version as well (one line per version on a chart)' }),
          }),
        },
        responses: { 200: jsonContent(Stats, 'Statistics') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const { window, version, by } = c.req.valid('query');
      const deps = c.get('deps');
      await requireModel(deps, scopeOf(c), name);
      const number = await versionNumber(c, name, version);
      await deps.metrics.flush(deps.db);
      const stats = await modelStats(deps.db, scopeOf(c).workspaceId, name, window ?? 60, {
        version: number,
        seriesPerVersion: by === 'version',
      });
      return c.json(presentStats(name, stats), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/predictions',
        tags: ['Monitoring'],
        summary: 'List logged predictions',
        description:
          'Predictions logged by sampling (the model’s `monitoring.log_sample_rate`), newest first, with their inputs, outputs and any feedback.',
        request: { params: NameParam, query: z.object({ limit: Limit, cursor: Cursor, version: VersionQuery }) },
        responses: { 200: jsonContent(PredictionList, 'A page of predictions') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      await requireModel(c.get('deps'), scopeOf(c), name);
      const version = await versionNumber(c, name, q.version);
      const page = await listPredictions(c.get('deps').db, scopeOf(c), name, {
        limit: q.limit,
        cursor: q.cursor,
        version,
      });
      const feedback = await feedbackFor(
        c.get('deps').db,
        scopeOf(c).workspaceId,
        page.items.map((p) => p.id),
      );
      return c.json(
        { predictions: page.items.map((p) => presentPrediction(p, feedback.get(p.id))), next_cursor: page.nextCursor },
        200,
      );
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/predictions/{id}',
        tags: ['Monitoring'],
        summary: 'Get a logged prediction',
        description: 'A logged prediction by the id its response carried in `X-Prediction-Id`.',
        request: { params: IdParam },
        responses: { 200: jsonContent(Prediction, 'The prediction') },
      },
    ),
    async (c) => {
      const db = c.get('deps').db;
      const prediction = await requirePrediction(db, scopeOf(c), c.req.valid('param').id);
      const feedback = await feedbackFor(db, prediction.workspaceId, [prediction.id]);
      return c.json(presentPrediction(prediction, feedback.get(prediction.id)), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'predict', budget: 'management', body: 'json', errors: [404, 409] },
      {
        method: 'post',
        path: '/v1/predictions/{id}/feedback',
        tags: ['Monitoring'],
        summary: 'Report the true value',
        description:
          'Ground truth for a logged prediction: `actual` is the true label or number, or an array with one per row for a prediction of several rows. Feeds the model’s performance metrics. Given once per prediction (409 after).',
        request: {
          params: IdParam,
          body: { required: true, content: { 'application/json': { schema: FeedbackBody } } },
        },
        responses: { 201: jsonContent(FeedbackAccepted, 'Recorded') },
      },
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const { actual } = c.req.valid('json');
      if (actual === undefined) throw invalidInput("request body 'actual': required");
      const rows = await recordFeedback(c.get('deps').db, scopeOf(c), id, Array.isArray(actual) ? actual : [actual]);
      return c.json({ prediction_id: id, rows }, 201);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/performance',
        tags: ['Monitoring'],
        summary: 'Model performance from feedback',
        description:
          'Quality over predictions made in the window that received feedback: accuracy, precision, recall and F1 (macro and per class) for classifiers, MAE and RMSE for regressors; also per day.',
        request: {
          params: NameParam,
          query: z.object({ window: Window.optional().openapi({ description: 'Default 7d' }), version: VersionQuery }),
        },
        responses: { 200: jsonContent(Performance, 'Performance') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      const model = await requireModel(c.get('deps'), scopeOf(c), name);
      const version = await versionNumber(c, name, q.version);
      const performance = await modelPerformance(c.get('deps').db, scopeOf(c).workspaceId, name, {
        task: model.task,
        classLabels: model.classLabels,
        windowMinutes: q.window ?? 7 * 1440,
        version,
      });
      return c.json(presentPerformance(name, performance), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [404] },
      {
        method: 'put',
        path: '/v1/models/{name}/versions/{version}/baseline',
        tags: ['Monitoring'],
        summary: 'Set the drift baseline',
        description:
          'The reference distribution drift is measured against: rows given inline or as a JSONL upload (20 to 50,000 records as in the instances API), or `{"capture": N}` to take the version’s next N predicted rows. Replaces any previous baseline of the version.',
        request: {
          params: VersionParams,
          body: { required: true, content: { 'application/json': { schema: BaselineBody } } },
        },
        responses: { 200: jsonContent(Baseline, 'The baseline') },
      },
    ),
    async (c) => {
      const { name, version } = c.req.valid('param');
      const body = c.req.valid('json');
      const deps = c.get('deps');
      const served = await resolveServed(deps, scopeOf(c), name, version);
      let baseline;
      if ('capture' in body) {
        baseline = await startCapture(deps, scopeOf(c), served, body.capture);
      } else {
        const rows = 'rows' in body ? body.rows : await uploadedRows(c, body.upload_id);
        baseline = await setBaselineFromRows(deps, scopeOf(c), served, rows);
      }
      deps.drift.forgetPlan(served.versionId);
      return c.json(presentBaseline(baseline), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/versions/{version}/baseline',
        tags: ['Monitoring'],
        summary: 'Get the drift baseline',
        description: 'The version’s baseline: its features, bins, and how far a capture has come.',
        request: { params: VersionParams },
        responses: { 200: jsonContent(Baseline, 'The baseline') },
      },
    ),
    async (c) => {
      const { name, version } = c.req.valid('param');
      const served = await resolveServed(c.get('deps'), scopeOf(c), name, version);
      return c.json(presentBaseline(await getBaseline(c.get('deps').db, served.versionId)), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/drift',
        tags: ['Monitoring'],
        summary: 'Drift status',
        description:
          'The baseline and the latest drift report of a version (default: the version served by default). Reports are computed by the cron trigger every five minutes, or on demand with POST …/drift/check.',
        request: { params: NameParam, query: z.object({ version: VersionRef.optional() }) },
        responses: { 200: jsonContent(DriftStatus, 'Drift status') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const deps = c.get('deps');
      const served = await resolveServed(deps, scopeOf(c), name, c.req.valid('query').version);
      const baseline = (await findBaseline(deps.db, served.versionId)) ?? null;
      const report = await latestReport(deps.db, served.versionId);
      return c.json(
        {
          model: name,
          version: served.version,
          baseline: baseline ? presentBaseline(baseline) : null,
          report: report ? presentReport(report) : null,
        },
        200,
      );
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/drift/history',
        tags: ['Monitoring'],
        summary: 'Drift history',
        description:
          'The drift reports of a version, newest first, each with the thresholds it judged by; `window` keeps those made within it.',
        request: {
          params: NameParam,
          query: z.object({
            version: VersionRef.optional(),
            window: Window.optional().openapi({ description: 'Only reports made within this window (default: all)' }),
            limit: Limit,
            cursor: Cursor,
          }),
        },
        responses: { 200: jsonContent(DriftHistory, 'Reports') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      const served = await resolveServed(c.get('deps'), scopeOf(c), name, q.version);
      const before = q.cursor === undefined ? undefined : Number(q.cursor);
      if (before !== undefined && !Number.isSafeInteger(before)) throw invalidInput('invalid cursor');
      const since = q.window === undefined ? undefined : Date.now() - q.window * 60000;
      const reports = await reportHistory(c.get('deps').db, served.versionId, q.limit + 1, { before, since });
      const page = reports.slice(0, q.limit);
      const next = reports.length > q.limit ? String(page[page.length - 1]!.id) : null;
      return c.json({ reports: page.map(presentReport), next_cursor: next }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'post',
        path: '/v1/models/{name}/drift/check',
        tags: ['Monitoring'],
        summary: 'Check drift now',
        description: 'Runs the drift check of a version at once (as the cron trigger does) and answers its report.',
        request: { params: NameParam, query: z.object({ version: VersionRef.optional() }) },
        responses: {
          200: jsonContent(DriftReport, 'The new report'),
        },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const deps = c.get('deps');
      const served = await resolveServed(deps, scopeOf(c), name, c.req.valid('query').version);
      await getBaseline(deps.db, served.versionId);
      const report = await checkDrift(deps, served.versionId);
      if (!report)
        throw invalidInput('the baseline is still being captured: no drift to measure yet', {
          code: 'baseline_not_ready',
        });
      return c.json(presentReport(report), 200);
    },
  );

async function uploadedRows(c: Context<AppEnv>, uploadId: string): Promise<unknown[]> {
  const upload = await requireUpload(c.get('deps'), scopeOf(c), uploadId);
  const object = await c.get('deps').bucket.get(upload.key);
  if (!object) throw invalidInput(`upload '${uploadId}' has no content`);
  const lines = (await object.text()).split('\n').filter((l) => l.trim() !== '');
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw invalidInput(`line ${i + 1} of upload '${uploadId}' is not valid JSON`);
    }
  });
}
