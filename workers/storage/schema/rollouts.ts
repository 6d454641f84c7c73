import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { requestCounters } from './monitoring';

/*
 * What an alias's split did, route by route, and what its shadow compared: written as
 * increments (upserts that add, maxima by max()), like the version rollups beside them. Keyed
 * by model name and version number, as the version rollups are.
 */

/** The part of the version counters (monitoring/counters.ts) a route keeps. */
const routeCounters = requestCounters;

const routeKey = () => ({
  workspaceId: text('workspace_id').notNull(),
  model: text('model').notNull(),
  alias: text('alias').notNull(),
  /** The route's index in the alias when the requests were served. */
  route: integer('route').notNull(),
  version: integer('version').notNull(),
});

/** Requests served through an alias's route, per minute: the scorecard and the guard read these. */
export const routeRollups = sqliteTable(
  'route_rollups',
  { ...routeKey(), minute: integer('minute').notNull(), ...routeCounters() },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.model, t.alias, t.route, t.version, t.minute] }),
    index('route_rollups_minute').on(t.minute),
  ],
);

/** The same since the route first served: monotonic, for Prometheus; never pruned. */
export const routeTotals = sqliteTable('route_totals', { ...routeKey(), ...routeCounters() }, (t) => [
  primaryKey({ columns: [t.workspaceId, t.model, t.alias, t.route, t.version] }),
]);

const shadowKey = () => ({
  workspaceId: text('workspace_id').notNull(),
  model: text('model').notNull(),
  alias: text('alias').notNull(),
  /** The shadow version. */
  version: integer('version').notNull(),
});

const shadowCounters = () => ({
  /** Requests mirrored, and those whose shadow run failed (or took too long). */
  requests: integer('requests').notNull().default(0),
  errors: integer('errors').notNull().default(0),
  /** Rows compared; for classifiers, rows whose labels agreed. */
  rows: integer('rows').notNull().default(0),
  agreeRows: integer('agree_rows').notNull().default(0),
});

/**
 * Shadow comparisons per minute. `output` '' holds the request-level figures (counts, label
 * agreement, probability differences, both latencies); a row per output name holds its
 * element-wise differences.
 */
export const shadowRollups = sqliteTable(
  'shadow_rollups',
  {
    ...shadowKey(),
    minute: integer('minute').notNull(),
    output: text('output').notNull(),
    ...shadowCounters(),
    /** Classifiers: the largest probability difference of each comparison, summed, and the largest. */
    probDiffSum: real('prob_diff_sum').notNull().default(0),
    probDiffMax: real('prob_diff_max').notNull().default(0),
    /** Numeric outputs: elements compared, exactly equal, and their absolute and relative differences. */
    elements: integer('elements').notNull().default(0),
    equalElements: integer('equal_elements').notNull().default(0),
    absDiffSum: real('abs_diff_sum').notNull().default(0),
    absDiffMax: real('abs_diff_max').notNull().default(0),
    relDiffSum: real('rel_diff_sum').notNull().default(0),
    relDiffMax: real('rel_diff_max').notNull().default(0),
    /** The latencies of the answered request and of its shadow run, summed over comparisons. */
    primaryMsSum: real('primary_ms_sum').notNull().default(0),
    shadowMsSum: real('shadow_ms_sum').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.model, t.alias, t.version, t.minute, t.output] }),
    index('shadow_rollups_minute').on(t.minute),
  ],
);

/** Shadow counts since the first comparison: monotonic, for Prometheus; never pruned. */
export const shadowTotals = sqliteTable('shadow_totals', { ...shadowKey(), ...shadowCounters() }, (t) => [
  primaryKey({ columns: [t.workspaceId, t.model, t.alias, t.version] }),
]);
