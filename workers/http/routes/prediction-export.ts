import { z } from '@hono/zod-openapi';
import { invalidInput } from '../../core/errors';
import { exportStream, type ExportFormat } from '../../monitoring/export/stream';
import { resolveServed } from '../../inference/served-versions';
import { requireModel } from '../../registry/models';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { ModelName, VersionRef } from '../schemas/common';
import { Instant } from '../schemas/monitoring';

/*
 * Logged predictions out, for retraining: one line per predicted row with its input, what was
 * predicted and the true value reported, streamed page by page as the client reads.
 */

const NameParam = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' } }) });
const DAY = 86_400_000;

const MEDIA: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** `format` wins; else an Accept that asks for CSV (and not JSON Lines) gets CSV. */
function formatOf(format: ExportFormat | undefined, accept: string | undefined): ExportFormat {
  if (format) return format;
  const wants = (accept ?? '').toLowerCase();
  return wants.includes('text/csv') && !/ndjson|jsonl/.test(wants) ? 'csv' : 'jsonl';
}

export const predictionExportRoutes = newRouter().openapi(
  defineRoute(
    { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
    {
      method: 'get',
      path: '/v1/models/{name}/predictions/export',
      tags: ['Monitoring'],
      summary: 'Export logged predictions',
      description: [
        'The model’s logged predictions made in [from, to), oldest first, one line per predicted row: `prediction_id`, `row`, `created_at`, `model`, `version`, `request_id`, `input` (the row as sent: a record, or per tensor the row’s values), `predicted`, `actual` (the feedback, or null) and `feedback_at`.',
        'JSON Lines by default; CSV with `format=csv` or `Accept: text/csv`, one column per feature (named by the model’s feature names, or by the first row’s keys). Streamed: the server reads a page of logs each time the client has taken the last.',
      ].join('\n\n'),
      request: {
        params: NameParam,
        query: z.object({
          from: Instant.optional().openapi({
            description: 'Start, inclusive: a date or ISO 8601 date-time. Default: PREDICTION_LOG_RETENTION_DAYS ago',
          }),
          to: Instant.optional().openapi({ description: 'End, exclusive. Default: now' }),
          version: VersionRef.optional().openapi({ description: 'Only this version (a number or alias)' }),
          format: z.enum(['jsonl', 'csv']).optional().openapi({ description: 'Default: from Accept, else jsonl' }),
        }),
      },
      responses: {
        200: {
          description: 'The rows',
          content: {
            'application/x-ndjson': { schema: { type: 'string' } },
            'text/csv': { schema: { type: 'string' } },
          },
        },
      },
    },
  ),
  async (c) => {
    const { name } = c.req.valid('param');
    const q = c.req.valid('query');
    const deps = c.get('deps');
    const scope = scopeOf(c);
    const model = await requireModel(deps, scope, name);
    const now = Date.now();
    const from = q.from ?? now - deps.config.PREDICTION_LOG_RETENTION_DAYS * DAY;
    const to = q.to ?? now;
    if (to <= from) throw invalidInput(`query parameter 'to' must come after 'from'`);
    // A number is taken as it is (an archived version's logs can be exported); an alias resolves.
    const version =
      q.version === undefined
        ? undefined
        : /^\d+$/.test(q.version)
          ? Number(q.version)
          : (await resolveServed(deps, scope, name, q.version)).version;
    const format = formatOf(q.format, c.req.header('accept'));
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    c.get('access').model = name;
    const body = exportStream(deps.db, {
      workspaceId: scope.workspaceId,
      model: name,
      from,
      to,
      version,
      format,
      featureNames: model.featureNames,
    });
    return c.body(body, 200, {
      'Content-Type': MEDIA[format],
      'Content-Disposition': `attachment; filename="${name}-predictions-${day(from)}-${day(to)}.${format}"`,
      'Cache-Control': 'no-store',
    }) as never;
  },
);
