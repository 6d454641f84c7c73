import { z } from '@hono/zod-openapi';
import { invalidInput } from '../../core/errors';
import {
  createRule,
  deleteRule,
  listEvents,
  listRules,
  listWorkspaceRules,
  requireRule,
  updateRule,
  type RuleFields,
} from '../../monitoring/alerts/rules';
import { requireModel } from '../../registry/models';
import { audit } from '../audit';
import { presentAlertEvent, presentAlertRule } from '../presenters/alerts';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import {
  AlertEventList,
  AlertRule,
  AlertRuleList,
  AlertStateQuery,
  CreateAlertRuleBody,
  UpdateAlertRuleBody,
} from '../schemas/alerts';
import { Cursor, Limit, ModelName, ResourceId, jsonContent } from '../schemas/common';
import { Window } from '../schemas/monitoring';

/*
 * Alert rules per model and their history. Rules are evaluated by the cron trigger (every five
 * minutes deployed, every minute under npm start); a change of state is announced by the
 * `alert.fired` and `alert.resolved` webhook events.
 */

const NameParam = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' } }) });
const RuleParams = NameParam.extend({ id: ResourceId('alr', 'id') });

type Body = z.infer<typeof UpdateAlertRuleBody>;

const fieldsFrom = (body: Body): RuleFields => ({
  name: body.name,
  metric: body.metric,
  condition: body.condition,
  threshold: body.threshold,
  windowMinutes: body.window,
  minSamples: body.min_samples,
  version: body.version,
  enabled: body.enabled,
});

const target = (model: string, id: string) => `model:${model}/alert:${id}`;

export const alertRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/alerts',
        tags: ['Alerts'],
        summary: 'List alert rules',
        description:
          'The alert rules of a model, oldest first, each with its state and what the latest evaluation measured.',
        request: { params: NameParam },
        responses: { 200: jsonContent(AlertRuleList, 'The rules') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const deps = c.get('deps');
      await requireModel(deps, scopeOf(c), name);
      const rules = await listRules(deps.db, scopeOf(c), name);
      return c.json({ alerts: rules.map(presentAlertRule), next_cursor: null }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [404, 409] },
      {
        method: 'post',
        path: '/v1/models/{name}/alerts',
        tags: ['Alerts'],
        summary: 'Create an alert rule',
        description: [
          'Watches one metric of the model over a window ending at each cron run: `error_rate`, `latency_p99_ms`, `drift_psi`, `drift_ks`, `accuracy` or `mae`. With at least `min_samples` samples in the window, a value past the threshold starts the alert firing (`alert.fired` webhook event) and a value back within it resolves it (`alert.resolved`); fewer samples leave it as it is.',
          'At most 50 rules per model (409 `alert_limit_reached`).',
        ].join('\n\n'),
        request: {
          params: NameParam,
          body: { required: true, content: { 'application/json': { schema: CreateAlertRuleBody } } },
        },
        responses: { 201: jsonContent(AlertRule, 'The new rule') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const body = c.req.valid('json');
      const deps = c.get('deps');
      c.get('access').model = name;
      const model = await requireModel(deps, scopeOf(c), name);
      const rule = await createRule(deps.db, scopeOf(c), model, {
        ...fieldsFrom(body),
        metric: body.metric,
        threshold: body.threshold,
      });
      await audit(c, { action: 'alert.create', target: target(name, rule.id), details: { metric: rule.metric } });
      return c.json(presentAlertRule(rule), 201, { Location: `/v1/models/${name}/alerts/${rule.id}` });
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/alerts/{id}',
        tags: ['Alerts'],
        summary: 'Get an alert rule',
        description: 'One rule with its state and what the latest evaluation measured.',
        request: { params: RuleParams },
        responses: { 200: jsonContent(AlertRule, 'The rule') },
      },
    ),
    async (c) => {
      const { name, id } = c.req.valid('param');
      return c.json(presentAlertRule(await requireRule(c.get('deps').db, scopeOf(c), name, id)), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [404] },
      {
        method: 'patch',
        path: '/v1/models/{name}/alerts/{id}',
        tags: ['Alerts'],
        summary: 'Change an alert rule',
        description:
          'Changes the fields given. The state stays until the next evaluation; `enabled: false` stops evaluating it and clears its state without an event.',
        request: {
          params: RuleParams,
          body: { required: true, content: { 'application/json': { schema: UpdateAlertRuleBody } } },
        },
        responses: { 200: jsonContent(AlertRule, 'The changed rule') },
      },
    ),
    async (c) => {
      const { name, id } = c.req.valid('param');
      const body = c.req.valid('json');
      if (Object.keys(body).length === 0) throw invalidInput('request body: name at least one field to change');
      const deps = c.get('deps');
      c.get('access').model = name;
      const model = await requireModel(deps, scopeOf(c), name);
      const rule = await updateRule(deps.db, scopeOf(c), model, id, fieldsFrom(body));
      await audit(c, { action: 'alert.update', target: target(name, id), details: { fields: Object.keys(body) } });
      return c.json(presentAlertRule(rule), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'delete',
        path: '/v1/models/{name}/alerts/{id}',
        tags: ['Alerts'],
        summary: 'Delete an alert rule',
        description: 'Deletes the rule (a firing one without an `alert.resolved` event); its history stays listed.',
        request: { params: RuleParams },
        responses: { 204: { description: 'Deleted' } },
      },
    ),
    async (c) => {
      const { name, id } = c.req.valid('param');
      c.get('access').model = name;
      await deleteRule(c.get('deps').db, scopeOf(c), name, id);
      await audit(c, { action: 'alert.delete', target: target(name, id) });
      return c.body(null, 204);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/alert-events',
        tags: ['Alerts'],
        summary: 'Alert history',
        description:
          'Every time one of the model’s alert rules fired or resolved, newest first, with the value and samples that decided it.',
        request: {
          params: NameParam,
          query: z.object({
            alert: ResourceId('alr', 'alert')
              .optional()
              .openapi({ param: { name: 'alert', in: 'query' }, description: 'Only the events of this rule' }),
            window: Window.optional().openapi({ description: 'Only events within this window (default: all kept)' }),
            limit: Limit,
            cursor: Cursor,
          }),
        },
        responses: { 200: jsonContent(AlertEventList, 'Events') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      const deps = c.get('deps');
      await requireModel(deps, scopeOf(c), name);
      const before = q.cursor === undefined ? undefined : Number(q.cursor);
      if (before !== undefined && !Number.isSafeInteger(before))
        throw invalidInput('invalid cursor', { code: 'invalid_cursor' });
      const events = await listEvents(deps.db, scopeOf(c), name, {
        limit: q.limit + 1,
        before,
        since: q.window === undefined ? undefined : Date.now() - q.window * 60000,
        ruleId: q.alert,
      });
      const page = events.slice(0, q.limit);
      const next = events.length > q.limit ? String(page[page.length - 1]!.id) : null;
      return c.json({ events: page.map(presentAlertEvent), next_cursor: next }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/alerts',
        tags: ['Alerts'],
        summary: 'List alert rules of every model',
        description:
          'The workspace’s alert rules of all models, newest first; `state=firing` lists what is firing now.',
        request: { query: z.object({ state: AlertStateQuery, limit: Limit, cursor: Cursor }) },
        responses: { 200: jsonContent(AlertRuleList, 'A page of rules') },
      },
    ),
    async (c) => {
      const q = c.req.valid('query');
      const page = await listWorkspaceRules(c.get('deps').db, scopeOf(c), q);
      return c.json({ alerts: page.items.map(presentAlertRule), next_cursor: page.nextCursor }, 200);
    },
  );
