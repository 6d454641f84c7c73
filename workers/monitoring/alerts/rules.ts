import { and, asc, count, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { conflict, invalidInput, notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import type { ModelRow, Scope } from '../../registry/types';
import type { Db } from '../../storage/db';
import { newestFirst, pageOf, type Page } from '../../storage/paging';
import { alertEvents, alertRules, type AlertCondition, type AlertMetric } from '../../storage/schema';

/*
 * Alert rules of a model: a metric over a window, compared with a threshold once the window has
 * at least `minSamples` samples (requests, drift rows, or predictions with feedback). Changing
 * a rule keeps its state; the next evaluation decides whether it still fires.
 */

export type AlertRule = typeof alertRules.$inferSelect;
export type AlertEvent = typeof alertEvents.$inferSelect;

/** Rules per model: each is evaluated on every cron run. */
export const MAX_RULES_PER_MODEL = 50;

interface MetricDefaults {
  condition: AlertCondition;
  windowMinutes: number;
  minSamples: number;
  /** What a threshold may be. */
  range: [number, number];
  /** What the samples are. */
  samples: string;
}

export const METRIC_DEFAULTS: Record<AlertMetric, MetricDefaults> = {
  error_rate: { condition: 'above', windowMinutes: 15, minSamples: 50, range: [0, 1], samples: 'requests' },
  latency_p99_ms: { condition: 'above', windowMinutes: 15, minSamples: 50, range: [0, 3_600_000], samples: 'requests' },
  drift_psi: {
    condition: 'above',
    windowMinutes: 60,
    minSamples: 100,
    range: [0, 1000],
    samples: 'rows in the drift report',
  },
  drift_ks: {
    condition: 'above',
    windowMinutes: 60,
    minSamples: 100,
    range: [0, 1],
    samples: 'rows in the drift report',
  },
  accuracy: { condition: 'below', windowMinutes: 1440, minSamples: 30, range: [0, 1], samples: 'rows with feedback' },
  mae: {
    condition: 'above',
    windowMinutes: 1440,
    minSamples: 30,
    range: [0, Number.MAX_VALUE],
    samples: 'rows with feedback',
  },
};

export interface RuleFields {
  name?: string;
  metric?: AlertMetric;
  condition?: AlertCondition;
  threshold?: number;
  windowMinutes?: number;
  minSamples?: number;
  version?: string | null;
  enabled?: boolean;
}

/** Refuses a rule the model's task cannot measure, or a threshold its metric cannot reach. */
function check(model: ModelRow, rule: Required<Pick<RuleFields, 'metric' | 'threshold'>>): void {
  const [min, max] = METRIC_DEFAULTS[rule.metric].range;
  if (rule.threshold < min || rule.threshold > max) {
    throw invalidInput(`request body 'threshold': ${rule.metric} thresholds are ${min} to ${max}`);
  }
  if (rule.metric === 'accuracy' && model.task === 'regression') {
    throw invalidInput(`model '${model.name}' is a regressor: alert on 'mae', not 'accuracy'`);
  }
  if (rule.metric === 'mae' && model.task === 'classification') {
    throw invalidInput(`model '${model.name}' is a classifier: alert on 'accuracy', not 'mae'`);
  }
}

export async function createRule(
  db: Db,
  scope: Scope,
  model: ModelRow,
  fields: RuleFields & { metric: AlertMetric; threshold: number },
  now = Date.now(),
): Promise<AlertRule> {
  check(model, fields);
  const [{ n }] = (await db
    .select({ n: count() })
    .from(alertRules)
    .where(and(eq(alertRules.workspaceId, scope.workspaceId), eq(alertRules.model, model.name)))) as [{ n: number }];
  if (n >= MAX_RULES_PER_MODEL) {
    throw conflict(`model '${model.name}' has ${n} alert rules, the most it may have; delete one first`, {
      code: 'alert_limit_reached',
    });
  }
  const defaults = METRIC_DEFAULTS[fields.metric];
  const [rule] = await db
    .insert(alertRules)
    .values({
      id: newId('alr'),
      workspaceId: scope.workspaceId,
      model: model.name,
      name: fields.name ?? `${fields.metric} ${fields.condition ?? defaults.condition} ${fields.threshold}`,
      metric: fields.metric,
      condition: fields.condition ?? defaults.condition,
      threshold: fields.threshold,
      windowMinutes: fields.windowMinutes ?? defaults.windowMinutes,
      minSamples: fields.minSamples ?? defaults.minSamples,
      version: fields.version ?? null,
      enabled: fields.enabled ?? true,
      createdBy: scope.actorId,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return rule!;
}

export async function listRules(db: Db, scope: Scope, model: string): Promise<AlertRule[]> {
  return db
    .select()
    .from(alertRules)
    .where(and(eq(alertRules.workspaceId, scope.workspaceId), eq(alertRules.model, model)))
    .orderBy(asc(alertRules.createdAt), asc(alertRules.id));
}

export async function requireRule(db: Db, scope: Scope, model: string, id: string): Promise<AlertRule> {
  const rule = await db.query.alertRules.findFirst({
    where: and(eq(alertRules.id, id), eq(alertRules.workspaceId, scope.workspaceId), eq(alertRules.model, model)),
  });
  if (!rule) throw notFound(`model '${model}' has no alert rule '${id}'`, { code: 'alert_not_found' });
  return rule;
}

export async function updateRule(
  db: Db,
  scope: Scope,
  model: ModelRow,
  id: string,
  fields: RuleFields,
  now = Date.now(),
): Promise<AlertRule> {
  const rule = await requireRule(db, scope, model.name, id);
  const metric = fields.metric ?? rule.metric;
  // A new metric brings its own direction unless the change names one.
  const condition = fields.condition ?? (fields.metric ? METRIC_DEFAULTS[metric].condition : rule.condition);
  const threshold = fields.threshold ?? rule.threshold;
  check(model, { metric, threshold });
  const changes: Partial<typeof alertRules.$inferInsert> = {
    ...(fields.name !== undefined && { name: fields.name }),
    metric,
    condition,
    threshold,
    ...(fields.windowMinutes !== undefined && { windowMinutes: fields.windowMinutes }),
    ...(fields.minSamples !== undefined && { minSamples: fields.minSamples }),
    ...(fields.version !== undefined && { version: fields.version }),
    ...(fields.enabled !== undefined && { enabled: fields.enabled }),
    // A disabled rule stops firing quietly: it is not evaluated, so it cannot resolve later.
    ...(fields.enabled === false && { state: 'ok' as const, firedAt: null }),
    updatedAt: now,
  };
  const [updated] = await db.update(alertRules).set(changes).where(eq(alertRules.id, rule.id)).returning();
  return updated!;
}

export async function deleteRule(db: Db, scope: Scope, model: string, id: string): Promise<void> {
  const rule = await requireRule(db, scope, model, id);
  await db.delete(alertRules).where(eq(alertRules.id, rule.id));
}

/** A model's alert history, newest first: `before` an event id (paging), `since` a time. */
export async function listEvents(
  db: Db,
  scope: Scope,
  model: string,
  options: { limit: number; before?: number; since?: number; ruleId?: string },
): Promise<AlertEvent[]> {
  const conditions: (SQL | undefined)[] = [
    eq(alertEvents.workspaceId, scope.workspaceId),
    eq(alertEvents.model, model),
    options.before === undefined ? undefined : lt(alertEvents.id, options.before),
    options.since === undefined ? undefined : gte(alertEvents.createdAt, options.since),
    options.ruleId === undefined ? undefined : eq(alertEvents.ruleId, options.ruleId),
  ];
  return db
    .select()
    .from(alertEvents)
    .where(and(...conditions))
    .orderBy(desc(alertEvents.id))
    .limit(options.limit);
}

/** The workspace's rules of every model (in one state, if given), newest first. */
export async function listWorkspaceRules(
  db: Db,
  scope: Scope,
  query: { state?: AlertRule['state']; limit: number; cursor?: string },
): Promise<Page<AlertRule>> {
  const { after, orderBy } = newestFirst(alertRules.createdAt, alertRules.id, query.cursor);
  const rows = await db
    .select()
    .from(alertRules)
    .where(
      and(
        eq(alertRules.workspaceId, scope.workspaceId),
        query.state === undefined ? undefined : eq(alertRules.state, query.state),
        after,
      ),
    )
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  return pageOf(rows, query.limit, (r) => [r.createdAt, r.id]);
}
