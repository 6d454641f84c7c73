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

/** D1 binds at most 100 parameters a statement: a bin row binds 5, a captured row 2. */
const BIN_ROWS_PER_STATEMENT = 20;
const CAPTURED_ROWS_PER_STATEMENT = 50;

async function loadPlan(db: Db, served: ServedVersion): Promise<Plan | null> {
  const baseline = await db.query.driftBaselines.findFirst({ where: eq(driftBaselines.versionId, served.versionId) });
  if (!baseline) return null;
  return {
    status: baseline.status,
    columns: featureColumns(served.signature, served.featureNames),
    features: baseline.features,
  };
}

/** The isolate's drift counts, waiting to be added to D1 (one per isolate). */
export class DriftCounts {
  private readonly plans = new TtlCache<Plan | null>(1024);
  private bins = new Map<string, number>();
  private captured: { versionId: string; values: FeatureValue[] }[] = [];
  private since = 0;
  private readonly schedule = new FlushSchedule((db) => this.flush(db));

  forgetPlan(versionId: string): void {
    this.plans.deleteWhere((key) => key === versionId);
  }

  /** Purged versions: their plans and anything buffered for them are dropped, never written. */
  forgetVersions(versionIds: readonly string[]): void {
    const gone = new Set(versionIds);
    this.plans.deleteWhere((key) => gone.has(key));
    for (const key of this.bins.keys()) if (gone.has(key.slice(0, key.indexOf('\0')))) this.bins.delete(key);
    this.captured = this.captured.filter((row) => !gone.has(row.versionId));
  }

  /** Reads the rows' features now (the tensors are at hand) and counts them once the plan is known. */
  observe(deps: ObserveDeps, served: ServedVersion, inputs: NamedTensors, rows: number): void {
    const hour = Math.floor(Date.now() / 3_600_000);
    const count = (plan: Plan | null) => {
      if (!plan || plan.columns.length === 0) return;
      this.add(served.versionId, plan, featureRows(plan.columns, inputs, rows), hour);
      this.schedule.afterCount(deps, Date.now() - this.since >= deps.config.METRICS_FLUSH_SECONDS * 1000);
    };
    // The common case (the plan is known) costs no promise at all.
    const known = this.plans.peek(served.versionId);
    if (known) count(known.value);
    else deps.defer(this.plans.get(served.versionId, PLAN_TTL_MS, () => loadPlan(deps.db, served)).then(count));
  }

  /** Adds the buffered bin counts to D1, stores captured rows and finishes captures that are full. */
  async flush(db: Db): Promise<void> {
    const binRows = [...this.bins.entries()].map(([key, count]) => {
      const [versionId, hour, feature, bin] = key.split('\0');
      return { versionId: versionId!, hour: Number(hour), feature: Number(feature), bin: Number(bin), count };
    });
    const capturedRows = this.captured;
    this.bins = new Map();
    this.captured = [];
    this.since = 0;
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
      if (await finishCapture(db, versionId)) this.forgetPlan(versionId);
    }
  }

  private add(versionId: string, plan: Plan, rows: FeatureValue[][], hour: number): void {
    if (plan.status === 'capturing') {
      for (const values of rows) this.captured.push({ versionId, values });
    } else {
      plan.features!.forEach((feature, j) => {
        for (const row of rows) {
          const bin = binOf(feature, row[j]!);
          if (bin === undefined) continue;
          const key = `${versionId}\0${hour}\0${j}\0${bin}`;
          this.bins.set(key, (this.bins.get(key) ?? 0) + 1);
        }
      });
    }
    if (this.since === 0) this.since = Date.now();
  }
}
