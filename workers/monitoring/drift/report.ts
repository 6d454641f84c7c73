import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db } from '../../storage/db';
import { driftBaselines, driftBins, driftReports, models, type FeatureDrift } from '../../storage/schema';
import { emitEvent, type EventDeps } from '../../webhooks/events';
import type { DriftCounts } from './observe-features';
import { ks, psi } from './statistics';

export type DriftReport = typeof driftReports.$inferSelect;

/** Fewer live rows than this in the window say nothing reliable about drift. */
export const MIN_WINDOW_ROWS = 100;

const HOUR = 3_600_000;

export interface DriftCheckDeps extends EventDeps {
  drift: DriftCounts;
}

/**
 * Compares a version's traffic over its model's window with its baseline: PSI per feature, and
 * KS for numeric ones; a feature drifts when either passes the model's threshold. Stores the
 * report; a report that finds drift where the previous one did not sends `drift.detected`.
 */
export async function checkDrift(
  deps: DriftCheckDeps,
  versionId: string,
  now = Date.now(),
): Promise<DriftReport | null> {
  await deps.drift.flush(deps.db);
  const baseline = await deps.db.query.driftBaselines.findFirst({ where: eq(driftBaselines.versionId, versionId) });
  if (!baseline || baseline.status !== 'ready' || !baseline.features) return null;
  const model = await deps.db.query.models.findFirst({
    where: and(eq(models.workspaceId, baseline.workspaceId), eq(models.name, baseline.model)),
  });
  if (!model) return null;
  const fromHour = Math.floor(now / HOUR) - model.driftWindowHours + 1;
  const counted = await deps.db
    .select({ feature: driftBins.feature, bin: driftBins.bin, count: sql<number>`sum(${driftBins.count})` })
    .from(driftBins)
    .where(and(eq(driftBins.versionId, versionId), gte(driftBins.hour, fromHour)))
    .groupBy(driftBins.feature, driftBins.bin);
  const current = baseline.features.map((f) => new Array<number>(f.counts.length).fill(0));
  for (const { feature, bin, count } of counted) {
    if (current[feature] && bin < current[feature]!.length) current[feature]![bin] = count;
  }
  const rows = Math.max(0, ...current.map((c) => c.reduce((a, b) => a + b, 0)));
  const features: FeatureDrift[] = baseline.features.map((f, j) => {
    const p = psi(f.counts, current[j]!);
    const k = f.kind === 'numeric' ? ks(f.counts, current[j]!) : null;
    const drifted = p > model.driftPsiThreshold || (k !== null && k > model.driftKsThreshold);
    return { name: f.name, kind: f.kind, psi: round(p), ks: k === null ? null : round(k), drifted };
  });
  const status = rows < MIN_WINDOW_ROWS ? 'insufficient_data' : features.some((f) => f.drifted) ? 'drifted' : 'ok';
  const previous = await latestReport(deps.db, versionId);
  const [report] = await deps.db
    .insert(driftReports)
    .values({
      workspaceId: baseline.workspaceId,
      model: baseline.model,
      version: baseline.version,
      versionId,
      status,
      rows,
      windowHours: model.driftWindowHours,
      psiThreshold: model.driftPsiThreshold,
      ksThreshold: model.driftKsThreshold,
      features,
      createdAt: now,
    })
    .returning();
  if (status === 'drifted' && previous?.status !== 'drifted') {
    await emitEvent(deps, baseline.workspaceId, 'drift.detected', {
      model: baseline.model,
      version: baseline.version,
      rows,
      window_hours: model.driftWindowHours,
      features: features.filter((f) => f.drifted),
    });
  }
  return report!;
}

const round = (x: number) => Math.round(x * 10000) / 10000;

/** Every version with a ready baseline: what the cron trigger runs. */
export async function checkAllDrift(deps: DriftCheckDeps, now = Date.now()): Promise<number> {
  const ready = await deps.db
    .select({ versionId: driftBaselines.versionId })
    .from(driftBaselines)
    .where(eq(driftBaselines.status, 'ready'));
  for (const { versionId } of ready) await checkDrift(deps, versionId, now);
  return ready.length;
}

export async function latestReport(db: Db, versionId: string): Promise<DriftReport | undefined> {
  return db.query.driftReports.findFirst({
    where: eq(driftReports.versionId, versionId),
    orderBy: desc(driftReports.id),
  });
}

/** Reports of a version, newest first: before a report id (paging), since a time (a window). */
export async function reportHistory(
  db: Db,
  versionId: string,
  limit: number,
  options: { before?: number; since?: number } = {},
): Promise<DriftReport[]> {
  return db
    .select()
    .from(driftReports)
    .where(
      and(
        eq(driftReports.versionId, versionId),
        options.before === undefined ? undefined : lt(driftReports.id, options.before),
        options.since === undefined ? undefined : gte(driftReports.createdAt, options.since),
      ),
    )
    .orderBy(desc(driftReports.id))
    .limit(limit);
}
