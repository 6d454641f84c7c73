import { and, eq, gte, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../storage/db';
import { LATENCY_COLUMNS, metricRollups, metricTotals } from '../storage/schema';
import { SCALAR_COUNTERS, columnsOf, countersOf, type Counters } from './counters';
import type { MetricKey } from './metrics-buffer';

/** D1 binds at most 100 parameters a statement; a rollup row binds 30. */
const ROWS_PER_STATEMENT = 3;

/** `column = column + excluded.column` for every counter: an upsert that adds. */
function adding(table: typeof metricRollups | typeof metricTotals) {
  const set: Record<string, SQL> = {};
  const columns = table as unknown as Record<string, { name: string }>;
  for (const key of [...SCALAR_COUNTERS, ...LATENCY_COLUMNS.map((_, i) => `latencyB${i}`)]) {
    const name = columns[key]!.name;
    set[key] = sql.raw(`"${name}" + excluded."${name}"`);
  }
  return set;
}

/** Adds buffered counts to the minute rollups and to the totals, in one D1 batch. */
export async function writeCounts(db: Db, entries: { key: MetricKey; counters: Counters }[]): Promise<void> {
  if (entries.length === 0) return;
  const totals = new Map<string, { key: Omit<MetricKey, 'minute'>; columns: Record<string, number> }>();
  for (const { key, counters } of entries) {
    const id = `${key.workspaceId}\0${key.model}\0${key.version}`;
    const existing = totals.get(id);
    const columns = columnsOf(counters);
    if (!existing)
      totals.set(id, { key: { workspaceId: key.workspaceId, model: key.model, version: key.version }, columns });
    else for (const [c, n] of Object.entries(columns)) existing.columns[c]! += n;
  }
  const statements = [];
  for (let i = 0; i < entries.length; i += ROWS_PER_STATEMENT) {
    const values = entries
      .slice(i, i + ROWS_PER_STATEMENT)
      .map(({ key, counters }) => ({ ...key, ...columnsOf(counters) }));
    statements.push(
      db
        .insert(metricRollups)
        .values(values as (typeof metricRollups.$inferInsert)[])
        .onConflictDoUpdate({
          target: [metricRollups.workspaceId, metricRollups.model, metricRollups.version, metricRollups.minute],
          set: adding(metricRollups),
        }),
    );
  }
  const totalRows = [...totals.values()].map(({ key, columns }) => ({ ...key, ...columns }));
  for (let i = 0; i < totalRows.length; i += ROWS_PER_STATEMENT) {
    statements.push(
      db
        .insert(metricTotals)
        .values(totalRows.slice(i, i + ROWS_PER_STATEMENT) as (typeof metricTotals.$inferInsert)[])
        .onConflictDoUpdate({
          target: [metricTotals.workspaceId, metricTotals.model, metricTotals.version],
          set: adding(metricTotals),
        }),
    );
  }
  await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
}

export interface RollupRow {
  model: string;
  version: number;
  minute: number;
  counters: Counters;
}

/** The minute rollups of a model (every version) since `fromMinute`. */
export async function readRollups(
  db: Db,
  workspaceId: string,
  model: string,
  fromMinute: number,
): Promise<RollupRow[]> {
  const rows = await db
    .select()
    .from(metricRollups)
    .where(
      and(
        eq(metricRollups.workspaceId, workspaceId),
        eq(metricRollups.model, model),
        gte(metricRollups.minute, fromMinute),
      ),
    )
    .orderBy(metricRollups.minute);
  return rows.map((r) => ({ model: r.model, version: r.version, minute: r.minute, counters: countersOf(r) }));
}

export interface TotalsRow {
  workspaceId: string;
  model: string;
  version: number;
  counters: Counters;
}

/** Totals of one workspace, or of all of them. */
export async function readTotals(db: Db, workspaceId?: string): Promise<TotalsRow[]> {
  const rows = await db
    .select()
    .from(metricTotals)
    .where(workspaceId ? eq(metricTotals.workspaceId, workspaceId) : undefined)
    .orderBy(metricTotals.workspaceId, metricTotals.model, metricTotals.version);
  return rows.map((r) => ({ workspaceId: r.workspaceId, model: r.model, version: r.version, counters: countersOf(r) }));
}
