import { eq, sql } from 'drizzle-orm';
import type { ServedVersion } from '../../inference/served-versions';
import type { NamedTensors } from '../../inference/types';
import type { Db } from '../../storage/db';
import { driftBaselines, driftBins, driftCapturedRows, type FeatureBaseline } from '../../storage/schema';
import { TtlCache } from '../../core/ttl-cache';
import { FlushSchedule } from '../flush-schedule';
import type { ObserveDeps } from '../observe';
import { binOf } from './binning';
import { featureColumns, featureRows, type FeatureColumn, type FeatureValue } from './features';
import { finishCapture } from './baselines';

/*
 * Live traffic into the drift histograms. A version with a ready baseline gets its rows counted
 * per feature, bin and hour; one whose baseline is being captured gets its rows kept until there
 * are enough. Counts are buffered in the isolate and added to D1 in the background, like metrics.
 */

interface Plan {
  status: 'capturing' | 'ready';
  columns: FeatureColumn[];
  features: FeatureBaseline[] | null;
}

const PLAN_TTL_MS = 30_000;
const plans = new TtlCache<Plan | null>(1024);

export function forgetDriftPlan(versionId: string): void {
  plans.deleteWhere((key) => key === versionId);
}

async function loadPlan(db: Db, served: ServedVersion): Promise<Plan | null> {
  const baseline = await db.query.driftBaselines.findFirst({ where: eq(driftBaselines.versionId, served.versionId) });
  if (!baseline) return null;
  return {
    status: baseline.status,
    columns: featureColumns(served.signature, served.featureNames),
    features: baseline.features,
  };
}

function planFor(db: Db, served: ServedVersion): Promise<Plan | null> {
  return plans.get(served.versionId, PLAN_TTL_MS, () => loadPlan(db, served));
}

const bins = new Map<string, number>();
const captured: { versionId: string; values: FeatureValue[] }[] = [];

/** Purged versions: their plans and anything buffered for them are dropped, never written. */
export function forgetDriftVersions(versionIds: readonly string[]): void {
  const gone = new Set(versionIds);
  plans.deleteWhere((key) => gone.has(key));
  for (const key of bins.keys()) if (gone.has(key.slice(0, key.indexOf('\0')))) bins.delete(key);
  const kept = captured.filter((row) => !gone.has(row.versionId));
  captured.splice(0, captured.length, ...kept);
}
let since = 0;
const schedule = new FlushSchedule((db) => flushDrift(db));

function add(versionId: string, plan: Plan, rows: FeatureValue[][], hour: number): void {
  if (plan.status === 'capturing') {
    for (const values of rows) captured.push({ versionId, values });
  } else {
    plan.features!.forEach((feature, j) => {
      for (const row of rows) {
        const bin = binOf(feature, row[j]!);
        if (bin === undefined) continue;
        const key = `${versionId}\0${hour}\0${j}\0${bin}`;
        bins.set(key, (bins.get(key) ?? 0) + 1);
      }
    });
  }
  if (since === 0) since = Date.now();
}

/** Reads the rows' features now (the tensors are at hand) and counts them once the plan is known. */
export function observeFeatures(deps: ObserveDeps, served: ServedVersion, inputs: NamedTensors, rows: number): void {
  const hour = Math.floor(Date.now() / 3_600_000);
  deps.defer(
    planFor(deps.db, served).then((plan) => {
      if (!plan || plan.columns.length === 0) return;
      add(served.versionId, plan, featureRows(plan.columns, inputs, rows), hour);
      schedule.afterCount(deps, Date.now() - since >= deps.config.METRICS_FLUSH_SECONDS * 1000);
    }),
  );
}

/** D1 binds at most 100 parameters a statement: a bin row binds 5, a captured row 2. */
const BIN_ROWS_PER_STATEMENT = 20;
const CAPTURED_ROWS_PER_STATEMENT = 50;

/** Adds the buffered bin counts to D1, stores captured rows and finishes captures that are full. */
export async function flushDrift(db: Db): Promise<void> {
  const binRows = [...bins.entries()].map(([key, count]) => {
    const [versionId, hour, feature, bin] = key.split('\0');
    return { versionId: versionId!, hour: Number(hour), feature: Number(feature), bin: Number(bin), count };
  });
  const capturedRows = captured.splice(0, captured.length);
  bins.clear();
  since = 0;
  const statements = [];
  for (let i = 0; i < binRows.length; i += BIN_ROWS_PER_STATEMENT) {
    statements.push(
      db
        .insert(driftBins)
        .values(binRows.slice(i, i + BIN_ROWS_PER_STATEMENT))
        .onConflictDoUpdate({
          target: [driftBins.versionId, driftBins.hour, driftBins.feature, driftBins.bin],
          set: { count: sql.raw('"count" + excluded."count"') },
        }),
    );
  }
  for (let i = 0; i < capturedRows.length; i += CAPTURED_ROWS_PER_STATEMENT) {
    statements.push(db.insert(driftCapturedRows).values(capturedRows.slice(i, i + CAPTURED_ROWS_PER_STATEMENT)));
  }
  if (statements.length > 0) await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  for (const versionId of new Set(capturedRows.map((r) => r.versionId))) {
    if (await finishCapture(db, versionId)) forgetDriftPlan(versionId);
  }
}
