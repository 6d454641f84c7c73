import { quantile } from '../core/latency-buckets';
import { bucketOf, bucketsFor } from './buckets';
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
  /** Per version, newest first; with `series` when asked for (`bySeries`). */
  versions: (Summary & { version: number; series?: SeriesPoint[] })[];
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

export function point(at: number, c: Counters): SeriesPoint {
  const s = summarize(c);
  return {
    at,
    requests: c.requests,
    errorRate: s.errorRate,
    p50: s.latencyMs.p50,
    p95: s.latencyMs.p95,
    p99: s.latencyMs.p99,
    cacheHitRatio: s.cache.hitRatio,
    rows: c.rows,
  };
}

const add = <K>(map: Map<K, Counters>, key: K, c: Counters) =>
  addInto(map.get(key) ?? map.set(key, emptyCounters()).get(key)!, c);

/**
 * A model's traffic over the last `windowMinutes`: totals, per version, and 60 to 120 points in
 * time; with `seriesPerVersion`, each version's own points too (the dashboard's per-version lines).
 */
export async function modelStats(
  db: Db,
  workspaceId: string,
  model: string,
  windowMinutes: number,
  options: { version?: number; seriesPerVersion?: boolean } = {},
  now = Date.now(),
): Promise<ModelStats> {
  const { fromMinute, toMinute, stepMinutes, starts } = bucketsFor(windowMinutes, now);
  const rows = (await readRollups(db, workspaceId, model, fromMinute)).filter(
    (r) => options.version === undefined || r.version === options.version,
  );
  const total = emptyCounters();
  const perVersion = new Map<number, Counters>();
  const perStep = new Map<number, Counters>();
  const perVersionStep = new Map<string, Counters>();
  for (const r of rows) {
    addInto(total, r.counters);
    add(perVersion, r.version, r.counters);
    const step = bucketOf(r.minute, stepMinutes);
    add(perStep, step, r.counters);
    if (options.seriesPerVersion) add(perVersionStep, `${r.version}:${step}`, r.counters);
  }
  const seriesOf = (get: (step: number) => Counters | undefined) =>
    starts.map((step) => point(step * 60000, get(step) ?? emptyCounters()));
  return {
    fromMinute,
    toMinute,
    stepMinutes,
    total: summarize(total),
    versions: [...perVersion.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([v, c]) => ({
        version: v,
        ...summarize(c),
        ...(options.seriesPerVersion && { series: seriesOf((step) => perVersionStep.get(`${v}:${step}`)) }),
      })),
    series: seriesOf((step) => perStep.get(step)),
  };
}
