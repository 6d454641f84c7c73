import { BUCKETS } from '../core/latency-buckets';

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
