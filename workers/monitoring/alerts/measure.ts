import { and, desc, eq, gte } from 'drizzle-orm';
import { resolveReference } from '../../registry/resolve';
import type { Db } from '../../storage/db';
import { driftReports, models } from '../../storage/schema';
import { addInto, emptyCounters } from '../counters';
import { readRollups } from '../metrics-store';
import { modelPerformance } from '../performance';
import { summarize } from '../stats';
import type { AlertRule } from './rules';

/*
 * What an alert rule's metric is over its window, and how many samples that rests on:
 * requests (error rate, p99 latency, from the minute rollups), rows in the latest drift report
 * of the window (drift, the worst feature of the worst version), rows with feedback (accuracy,
 * MAE, of predictions made in the window). `value` is null when there is nothing to measure.
 */

export interface Measurement {
  value: number | null;
  samples: number;
}

const NOTHING: Measurement = { value: null, samples: 0 };

/** The version number a rule names; undefined for every version, null when it names none that exists. */
async function versionOf(db: Db, rule: AlertRule): Promise<number | undefined | null> {
  if (rule.version === null) return undefined;
  const found = await resolveReference({ db }, { workspaceId: rule.workspaceId }, rule.model, rule.version);
  return found.found ? found.version.version : null;
}

export async function measure(db: Db, rule: AlertRule, now = Date.now()): Promise<Measurement> {
  const version = await versionOf(db, rule);
  if (version === null) return NOTHING;
  switch (rule.metric) {
    case 'error_rate':
    case 'latency_p99_ms':
      return traffic(db, rule, version, now);
    case 'drift_psi':
    case 'drift_ks':
      return drift(db, rule, version, now);
    case 'accuracy':
    case 'mae':
      return quality(db, rule, version, now);
  }
}

async function traffic(db: Db, rule: AlertRule, version: number | undefined, now: number): Promise<Measurement> {
  const fromMinute = Math.floor(now / 60000) - rule.windowMinutes + 1;
  const total = emptyCounters();
  for (const row of await readRollups(db, rule.workspaceId, rule.model, fromMinute)) {
    if (version === undefined || row.version === version) addInto(total, row.counters);
  }
  const summary = summarize(total);
  return {
    value: rule.metric === 'error_rate' ? summary.errorRate : summary.latencyMs.p99,
    samples: total.requests,
  };
}

/**
 * The latest report of each version made within the window; of those with enough rows, the
 * highest statistic of any feature. The samples are that report's rows (or, when none has
 * enough, the most any report saw).
 */
async function drift(db: Db, rule: AlertRule, version: number | undefined, now: number): Promise<Measurement> {
  const reports = await db
    .select()
    .from(driftReports)
    .where(
      and(
        eq(driftReports.workspaceId, rule.workspaceId),
        eq(driftReports.model, rule.model),
        gte(driftReports.createdAt, now - rule.windowMinutes * 60000),
        version === undefined ? undefined : eq(driftReports.version, version),
      ),
    )
    .orderBy(desc(driftReports.id));
  const latest = new Map<number, (typeof reports)[number]>();
  for (const report of reports) if (!latest.has(report.version)) latest.set(report.version, report);
  let worst: Measurement = NOTHING;
  let seen = 0;
  for (const report of latest.values()) {
    seen = Math.max(seen, report.rows);
    if (report.status === 'insufficient_data' || report.rows < rule.minSamples) continue;
    const values = report.features
      .map((f) => (rule.metric === 'drift_psi' ? f.psi : f.ks))
      .filter((v): v is number => v !== null);
    if (values.length === 0) continue;
    const value = Math.max(...values);
    if (worst.value === null || value > worst.value) worst = { value, samples: report.rows };
  }
  return worst.value === null ? { value: null, samples: seen } : worst;
}

async function quality(db: Db, rule: AlertRule, version: number | undefined, now: number): Promise<Measurement> {
  const model = await db.query.models.findFirst({
    where: and(eq(models.workspaceId, rule.workspaceId), eq(models.name, rule.model)),
  });
  if (!model) return NOTHING;
  const performance = await modelPerformance(
    db,
    rule.workspaceId,
    rule.model,
    { task: model.task, classLabels: model.classLabels, windowMinutes: rule.windowMinutes, version },
    now,
  );
  const m = performance.metrics;
  const value = rule.metric === 'accuracy' ? ('accuracy' in m ? m.accuracy : null) : 'mae' in m ? m.mae : null;
  return { value, samples: performance.count };
}
