import type { CacheStatus } from '../cache/prediction-cache';
import type { Config } from '../core/config';
import { bucketOf } from '../core/latency-buckets';
import type { Db } from '../storage/db';
import { addInto, type Counters } from './counters';
import { MetricsBuffer, type MetricKey } from './metrics-buffer';
import { FlushSchedule } from './flush-schedule';
import { writeCounts } from './metrics-store';

/*
 * Where the serving paths report what happened. Nothing here delays a response: counts go to
 * the isolate's buffer, and the buffer is written to D1 in the background (flush-schedule.ts).
 */

export interface ObserveDeps {
  db: Db;
  config: Config;
  defer: (work: Promise<unknown>) => void;
  /**
   * Set by an invocation that writes the counts itself when it ends (a queue consumer: its
   * waitUntil work holds back the queue's next batch, so no timer may be left running).
   */
  flushesWhenDone?: boolean;
}

interface VersionRef {
  workspaceId: string;
  model: string;
  version: number;
}

const buffer = new MetricsBuffer();
const writing = new Set<Promise<void>>();
const schedule = new FlushSchedule((db) => flush(db));

const keyOf = (v: VersionRef, at = Date.now()): MetricKey => ({ ...v, minute: Math.floor(at / 60000) });

function record(deps: ObserveDeps, v: VersionRef, update: (c: Counters) => void): void {
  buffer.add(keyOf(v), update);
  schedule.afterCount(deps, buffer.due(deps.config.METRICS_FLUSH_SECONDS));
}

export function observeInference(
  deps: ObserveDeps,
  v: VersionRef,
  o: { status: number; latencyMs: number; rows: number; cache?: CacheStatus },
): void {
  record(deps, v, (c) => {
    c.requests += 1;
    if (o.status >= 500) c.serverErrors += 1;
    else if (o.status >= 400) c.clientErrors += 1;
    else c.rows += o.rows;
    if (o.cache === 'HIT') c.cacheHits += 1;
    if (o.cache === 'MISS') c.cacheMisses += 1;
    if (o.cache === 'BYPASS') c.cacheBypasses += 1;
    c.latencyMsSum += o.latencyMs;
    c.latency[bucketOf(o.latencyMs)]! += 1;
  });
}

export function observeBatchRows(deps: ObserveDeps, v: VersionRef, ok: number, failed: number): void {
  record(deps, v, (c) => {
    c.batchRowsOk += ok;
    c.batchRowsFailed += failed;
  });
}

export function observeLoad(deps: ObserveDeps, v: VersionRef, ms: number): void {
  record(deps, v, (c) => {
    c.loads += 1;
    c.loadMsSum += ms;
  });
}

/** Counts of a purged model that this isolate has not written yet are not written at all. */
export function forgetModelMetrics(workspaceId: string, model: string): void {
  buffer.discard(workspaceId, model);
}

async function flush(db: Db): Promise<void> {
  const taken = buffer.take();
  if (taken.length === 0) return;
  const write = writeCounts(db, taken).catch((err: unknown) => {
    // Put the counts back: the next flush writes them with whatever came since.
    for (const { key, counters } of taken) buffer.add(key, (c) => addInto(c, counters));
    throw err;
  });
  writing.add(write);
  try {
    await write;
  } finally {
    writing.delete(write);
  }
}

/** Writes everything this isolate has buffered and waits for writes already under way. */
export async function flushMetrics(db: Db): Promise<void> {
  await flush(db);
  await Promise.allSettled([...writing]);
}
