import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

/*
 * Alert rules per model, evaluated by the cron trigger. A rule's state is kept on its own row
 * and changes with a conditional update, so two overlapping cron invocations cannot both
 * announce the same change.
 */

export const ALERT_METRICS = ['error_rate', 'latency_p99_ms', 'drift_psi', 'drift_ks', 'accuracy', 'mae'] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

export const ALERT_CONDITIONS = ['above', 'below'] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

/** `ok`: evaluated and within bounds (or never evaluated yet); `firing`: past the threshold. */
export const ALERT_STATES = ['ok', 'firing'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const alertRules = sqliteTable(
  'alert_rules',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    model: text('model').notNull(),
    name: text('name').notNull(),
    metric: text('metric', { enum: ALERT_METRICS }).notNull(),
    condition: text('condition', { enum: ALERT_CONDITIONS }).notNull(),
    threshold: real('threshold').notNull(),
    windowMinutes: integer('window_minutes').notNull(),
    minSamples: integer('min_samples').notNull(),
    /** A version number or alias, resolved at each evaluation; null: every version together. */
    version: text('version'),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    state: text('state', { enum: ALERT_STATES }).notNull().default('ok'),
    /** What the last evaluation measured (null: too few samples, or nothing to measure). */
    lastValue: real('last_value'),
    lastSamples: integer('last_samples'),
    lastEvaluatedAt: integer('last_evaluated_at'),
    /** When the current firing began (null while ok). */
    firedAt: integer('fired_at'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('alert_rules_model').on(t.workspaceId, t.model)],
);

export const ALERT_EVENT_KINDS = ['fired', 'resolved'] as const;

/** Every time a rule started or stopped firing: the history the dashboard and the API list. */
export const alertEvents = sqliteTable(
  'alert_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ruleId: text('rule_id').notNull(),
    workspaceId: text('workspace_id').notNull(),
    model: text('model').notNull(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ALERT_EVENT_KINDS }).notNull(),
    metric: text('metric', { enum: ALERT_METRICS }).notNull(),
    condition: text('condition', { enum: ALERT_CONDITIONS }).notNull(),
    threshold: real('threshold').notNull(),
    value: real('value'),
    samples: integer('samples').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('alert_events_model').on(t.workspaceId, t.model, t.id), index('alert_events_created').on(t.createdAt)],
);
