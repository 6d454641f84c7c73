import type { CacheStatus } from '../cache/prediction-cache';
import { BUCKETS, bucketOf } from '../core/latency-buckets';

/** What is counted per model version and minute (and in total). */
export interface Counters {
  requests: number;
  rows: number;
  clientErrors: number;
  serverErrors: number;
  cacheHits: number;
  cacheMisses: number;
  cacheBypasses: number;
  latencyMsSum: number;
  latency: number[];
  batchRowsOk: number;
  batchRowsFailed: number;
  loads: number;
  loadMsSum: number;
}

export const SCALAR_COUNTERS = [
  'requests',
  'rows',
  'clientErrors',
  'serverErrors',
  'cacheHits',
  'cacheMisses',
  'cacheBypasses',
  'latencyMsSum',
  'batchRowsOk',
  'batchRowsFailed',
  'loads',
  'loadMsSum',
] as const satisfies readonly (keyof Counters)[];

export function emptyCounters(): Counters {
  return {
    requests: 0,
    rows: 0,
    clientErrors: 0,
    serverErrors: 0,
    cacheHits: 0,
    cacheMisses: 0,
    cacheBypasses: 0,
    latencyMsSum: 0,
    latency: new Array<number>(BUCKETS).fill(0),
    batchRowsOk: 0,
    batchRowsFailed: 0,
    loads: 0,
    loadMsSum: 0,
  };
}

/** How one prediction request ended, as the counters see it. */
export interface InferenceOutcome {
  failed?: 'client' | 'server';
  latencyMs: number;
  rows: number;
  cache?: CacheStatus;
}

/** Counts one prediction request: per version and per alias route alike. */
export function countInference(c: Counters, o: InferenceOutcome): void {
  c.requests += 1;
  if (o.failed === 'server') c.serverErrors += 1;
  else if (o.failed === 'client') c.clientErrors += 1;
  else c.rows += o.rows;
  if (o.cache === 'HIT') c.cacheHits += 1;
  if (o.cache === 'MISS') c.cacheMisses += 1;
  if (o.cache === 'BYPASS') c.cacheBypasses += 1;
  c.latencyMsSum += o.latencyMs;
  c.latency[bucketOf(o.latencyMs)]! += 1;
}

export function addInto(into: Counters, more: Counters): Counters {
  for (const key of SCALAR_COUNTERS) into[key] += more[key];
  more.latency.forEach((n, i) => (into.latency[i]! += n));
  return into;
}

/** A rollup or totals row (one column per latency bucket) as Counters. */
export function countersOf(row: Record<string, unknown>): Counters {
  const c = emptyCounters();
  for (const key of SCALAR_COUNTERS) c[key] = Number(row[key] ?? 0);
  c.latency = c.latency.map((_, i) => Number(row[`latencyB${i}`] ?? 0));
  return c;
}

/** Counters as the columns of a rollup or totals row. */
export function columnsOf(c: Counters): Record<string, number> {
  const columns: Record<string, number> = {};
  for (const key of SCALAR_COUNTERS) columns[key] = c[key];
  c.latency.forEach((n, i) => (columns[`latencyB${i}`] = n));
  return columns;
}
