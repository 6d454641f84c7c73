import { quantile } from '../core/latency-buckets';
import type { Db } from '../storage/db';
import { addInto, emptyCounters, type Counters } from './counters';
import { readRollups } from './metrics-store';

/** What a window's counts say, in the units people read. */
export interface Summary {
  requests: number;
  rows: number;
  errors: { client: number; server: number };
  errorRate: number | null;
  latencyMs: { mean: number | null; p50: number | null; p95: number | null; p99: number | null };
  cache: { hits: number; misses: number; bypasses: number; hitRatio: number | null };
  batchRows: { succeeded: number; failed: number };
  loads: { count: number; meanMs: number | null };
}

export interface SeriesPoint {
  at: number;
  requests: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  cacheHitRatio: number | null;
  rows: number;
}

export interface ModelStats {
  fromMinute: number;
  toMinute: number;
  stepMinutes: number;
  total: Summary;
  versions: (Summary & { version: number })[];
  series: SeriesPoint[];
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
const ms = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

export function summarize(c: Counters): Summary {
  const lookups = c.cacheHits + c.cacheMisses;
  return {
    requests: c.requests,
    rows: c.rows,
    errors: { client: c.clientErrors, server: c.serverErrors },
    errorRate: ratio(c.clientErrors + c.serverErrors, c.requests),
    latencyMs: {
      mean: ms(ratio(c.latencyMsSum, c.requests)),
      p50: ms(quantile(c.latency, 0.5)),
      p95: ms(quantile(c.latency, 0.95)),
      p99: ms(quantile(c.latency, 0.99)),
    },
    cache: {
      hits: c.cacheHits,
      misses: c.cacheMisses,
      bypasses: c.cacheBypasses,
      hitRatio: ratio(c.cacheHits, lookups),
    },
    batchRows: { succeeded: c.batchRowsOk, failed: c.batchRowsFailed },
    loads: { count: c.loads, meanMs: ms(ratio(c.loadMsSum, c.loads)) },
  };
}

/** A model's traffic over the last `windowMinutes`: totals, per version, and ~60 points in time. */
export async function modelStats(
  db: Db,
  workspaceId: string,
  model: string,
  windowMinutes: number,
  version?: number,
  now = Date.now(),
): Promise<ModelStats> {
  const toMinute = Math.floor(now / 60000);
  const fromMinute = toMinute - windowMinutes + 1;
  const stepMinutes = Math.max(1, Math.ceil(windowMinutes / 60));
  const rows = (await readRollups(db, workspaceId, model, fromMinute)).filter(
    (r) => version === undefined || r.version === version,
  );
  const total = emptyCounters();
  const perVersion = new Map<number, Counters>();
  const perStep = new Map<number, Counters>();
  for (const r of rows) {
    addInto(total, r.counters);
    addInto(perVersion.get(r.version) ?? perVersion.set(r.version, emptyCounters()).get(r.version)!, r.counters);
    const step = fromMinute + Math.floor((r.minute - fromMinute) / stepMinutes) * stepMinutes;
    addInto(perStep.get(step) ?? perStep.set(step, emptyCounters()).get(step)!, r.counters);
  }
  const series: SeriesPoint[] = [];
  for (let step = fromMinute; step <= toMinute; step += stepMinutes) {
    const c = perStep.get(step) ?? emptyCounters();
    const s = summarize(c);
    series.push({
      at: step * 60000,
      requests: c.requests,
      errorRate: s.errorRate,
      p50: s.latencyMs.p50,
      p95: s.latencyMs.p95,
      p99: s.latencyMs.p99,
      cacheHitRatio: s.cache.hitRatio,
      rows: c.rows,
    });
  }
  return {
    fromMinute,
    toMinute,
    stepMinutes,
    total: summarize(total),
    versions: [...perVersion.entries()].sort((a, b) => b[0] - a[0]).map(([v, c]) => ({ version: v, ...summarize(c) })),
    series,
  };
}
