import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../storage/db';
import { alertRules, driftReports } from '../storage/schema';
import { qualityByVersion, type VersionQuality } from './performance';

/*
 * What /metrics reports as gauges beside the counters: each version's latest drift report (PSI
 * and KS per feature), model quality from feedback over the last QUALITY_WINDOW_MINUTES, and
 * whether each enabled alert rule fires.
 */

export const QUALITY_WINDOW_MINUTES = 24 * 60;

export interface DriftGauge {
  workspaceId: string;
  model: string;
  version: number;
  feature: string;
  psi: number;
  ks: number | null;
}

export interface AlertGauge {
  workspaceId: string;
  model: string;
  id: string;
  name: string;
  metric: string;
  firing: boolean;
}

export interface Gauges {
  drift: DriftGauge[];
  quality: VersionQuality[];
  alerts: AlertGauge[];
}

export async function readGauges(db: Db, workspaceId: string | undefined, now = Date.now()): Promise<Gauges> {
  const inWorkspace = workspaceId === undefined ? undefined : eq(driftReports.workspaceId, workspaceId);
  const latest = db
    .select({ id: sql<number>`max(${driftReports.id})` })
    .from(driftReports)
    .where(inWorkspace)
    .groupBy(driftReports.versionId);
  const reports = await db
    .select()
    .from(driftReports)
    .where(and(inArray(driftReports.id, latest), inWorkspace))
    .orderBy(driftReports.workspaceId, driftReports.model, driftReports.version);
  const rules = await db
    .select()
    .from(alertRules)
    .where(
      and(
        eq(alertRules.enabled, true),
        workspaceId === undefined ? undefined : eq(alertRules.workspaceId, workspaceId),
      ),
    )
    .orderBy(alertRules.workspaceId, alertRules.model, alertRules.createdAt);
  return {
    drift: reports.flatMap((r) =>
      r.features.map((f) => ({
        workspaceId: r.workspaceId,
        model: r.model,
        version: r.version,
        feature: f.name,
        psi: f.psi,
        ks: f.ks,
      })),
    ),
    quality: await qualityByVersion(db, workspaceId, QUALITY_WINDOW_MINUTES, now),
    alerts: rules.map((r) => ({
      workspaceId: r.workspaceId,
      model: r.model,
      id: r.id,
      name: r.name,
      metric: r.metric,
      firing: r.state === 'firing',
    })),
  };
}
