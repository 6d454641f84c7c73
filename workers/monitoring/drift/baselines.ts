import { and, asc, count, eq, inArray } from 'drizzle-orm';
import { invalidInput, notFound } from '../../core/errors';
import { requireJsonDepth } from '../../core/json-depth';
import type { Datatype } from '../../core/tensor';
import { instancesToTensors } from '../../inference/instances';
import { resolveServedById, type ServedVersion } from '../../inference/served-versions';
import type { RegistryDeps, Scope } from '../../registry/types';
import type { Db } from '../../storage/db';
import { driftBaselines, driftCapturedRows } from '../../storage/schema';
import { buildBaseline } from './binning';
import { featureColumns, featureRows, type FeatureValue } from './features';

export type BaselineRow = typeof driftBaselines.$inferSelect;

/** Rows a baseline may hold: enough for stable quantiles, small enough to build in a request. */
export const MAX_BASELINE_ROWS = 50_000;
export const MIN_BASELINE_ROWS = 20;

function columnsOf(served: ServedVersion) {
  const columns = featureColumns(served.signature, served.featureNames);
  if (columns.length === 0) {
    throw invalidInput(
      `model '${served.modelName}' has no tabular inputs ([batch], [batch, 1] or [batch, features]) to watch for drift`,
      { code: 'drift_unsupported' },
    );
  }
  const datatypes = Object.fromEntries(served.signature.inputs.map((s) => [s.name, s.datatype])) as Record<
    string,
    Datatype
  >;
  return { columns, datatypes };
}

const identity = (scope: Scope, served: ServedVersion) => ({
  versionId: served.versionId,
  workspaceId: scope.workspaceId,
  model: served.modelName,
  version: served.version,
});

/** Replaces the version's baseline (and drops rows a previous capture had collected). */
async function saveBaseline(db: Db, values: typeof driftBaselines.$inferInsert): Promise<BaselineRow> {
  await db.delete(driftCapturedRows).where(eq(driftCapturedRows.versionId, values.versionId));
  const [row] = await db
    .insert(driftBaselines)
    .values(values)
    .onConflictDoUpdate({ target: driftBaselines.versionId, set: values })
    .returning();
  return row!;
}

/** A baseline from reference rows, each a record as in the instances API. */
export async function setBaselineFromRows(
  deps: RegistryDeps,
  scope: Scope,
  served: ServedVersion,
  rows: unknown[],
): Promise<BaselineRow> {
  if (rows.length < MIN_BASELINE_ROWS || rows.length > MAX_BASELINE_ROWS) {
    throw invalidInput(`a baseline needs ${MIN_BASELINE_ROWS} to ${MAX_BASELINE_ROWS} rows; got ${rows.length}`);
  }
  rows.forEach((row, i) => requireJsonDepth(row, `baseline row ${i}`));
  const { columns, datatypes } = columnsOf(served);
  const inputs = instancesToTensors(served, rows, (i) => `baseline row ${i}`);
  const features = buildBaseline(columns, datatypes, featureRows(columns, inputs, rows.length));
  const now = Date.now();
  const values = {
    ...identity(scope, served),
    source: 'rows' as const,
    status: 'ready' as const,
    targetRows: rows.length,
    rows: rows.length,
    features,
    createdAt: now,
    readyAt: now,
  };
  return saveBaseline(deps.db, values);
}

/** Starts capturing the baseline from the version's next `target` predicted rows. */
export async function startCapture(
  deps: RegistryDeps,
  scope: Scope,
  served: ServedVersion,
  target: number,
): Promise<BaselineRow> {
  if (target < MIN_BASELINE_ROWS || target > MAX_BASELINE_ROWS) {
    throw invalidInput(`capture needs ${MIN_BASELINE_ROWS} to ${MAX_BASELINE_ROWS} rows; got ${target}`);
  }
  columnsOf(served);
  const values = {
    ...identity(scope, served),
    source: 'capture' as const,
    status: 'capturing' as const,
    targetRows: target,
    rows: 0,
    features: null,
    createdAt: Date.now(),
    readyAt: null,
  };
  return saveBaseline(deps.db, values);
}

/** The version's baseline, or undefined when it has none. */
export async function findBaseline(db: Db, versionId: string): Promise<BaselineRow | undefined> {
  const row = await db.query.driftBaselines.findFirst({ where: eq(driftBaselines.versionId, versionId) });
  if (!row) return undefined;
  if (row.status === 'capturing') {
    const [captured] = await db
      .select({ n: count() })
      .from(driftCapturedRows)
      .where(eq(driftCapturedRows.versionId, versionId));
    return { ...row, rows: Math.min(row.targetRows, captured?.n ?? 0) };
  }
  return row;
}

export async function getBaseline(db: Db, versionId: string): Promise<BaselineRow> {
  const row = await findBaseline(db, versionId);
  if (!row) throw notFound('this version has no drift baseline: set one first', { code: 'baseline_not_found' });
  return row;
}

/**
 * Turns a capture into a baseline once enough rows are in. Safe when isolates race: only the
 * one whose update finds the baseline still capturing writes it.
 */
export async function finishCapture(db: Db, versionId: string): Promise<boolean> {
  const baseline = await db.query.driftBaselines.findFirst({ where: eq(driftBaselines.versionId, versionId) });
  if (!baseline || baseline.status !== 'capturing') return false;
  const rows = await db
    .select({ id: driftCapturedRows.id, values: driftCapturedRows.values })
    .from(driftCapturedRows)
    .where(eq(driftCapturedRows.versionId, versionId))
    .orderBy(asc(driftCapturedRows.id))
    .limit(baseline.targetRows);
  if (rows.length < baseline.targetRows) return false;
  const served = await resolveServedById({ db }, { workspaceId: baseline.workspaceId, actorId: 'drift' }, versionId);
  const { columns, datatypes } = columnsOf(served);
  const features = buildBaseline(
    columns,
    datatypes,
    rows.map((r) => r.values as FeatureValue[]),
  );
  const [done] = await db
    .update(driftBaselines)
    .set({ status: 'ready', rows: rows.length, features, readyAt: Date.now() })
    .where(and(eq(driftBaselines.versionId, versionId), eq(driftBaselines.status, 'capturing')))
    .returning();
  if (done) await db.delete(driftCapturedRows).where(inArray(driftCapturedRows.versionId, [versionId]));
  return done !== undefined;
}
