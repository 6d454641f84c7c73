import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import type { Db } from '../storage/db';
import { addInto, countInference, type Counters, type InferenceOutcome } from './counters';
import { FlushSchedule } from './flush-schedule';
import { MetricsBuffer, type MetricKey } from './metrics-buffer';
import { writeCounts } from './metrics-store';

/*
 * Where the serving paths report what happened. Nothing here delays a response: counts go to
 * the isolate's buffer (one Metrics per isolate), and the buffer is written to D1 in the
 * background (flush-schedule.ts).
 */

export interface ObserveDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  defer: (work: Promise<unknown>) => void;
  /**
   * Set by an invocation that writes the counts itself when it ends (a queue consumer: its
   * waitUntil work holds back the queue's next batch, so no timer may be left running).
   */
  flushesWhenDone?: boolean;
}

export interface VersionRef {
  workspaceId: string;
  model: string;
  version: number;
}

const keyOf = (v: VersionRef, at = Date.now()): MetricKey => ({ ...v, minute: Math.floor(at / 60000) });

export class Metrics {
  private readonly buffer = new MetricsBuffer();
  private readonly writing = new Set<Promise<void>>();
  private readonly schedule = new FlushSchedule((db) => this.flushBuffer(db));

  inference(deps: ObserveDeps, v: VersionRef, o: InferenceOutcome): void {
    this.record(deps, v, (c) => countInference(c, o));
  }

  batchRows(deps: ObserveDeps, v: VersionRef, ok: number, failed: number): void {
    this.record(deps, v, (c) => {
      c.batchRowsOk += ok;
      c.batchRowsFailed += failed;
    });
  }

  load(deps: ObserveDeps, v: VersionRef, ms: number): void {
    this.record(deps, v, (c) => {
      c.loads += 1;
      c.loadMsSum += ms;
    });
  }

  /** Counts of a purged model that this isolate has not written yet are not written at all. */
  forgetModel(workspaceId: string, model: string): void {
    this.buffer.discard(workspaceId, model);
  }

  /** Writes everything this isolate has buffered and waits for writes already under way. */
  async flush(db: Db): Promise<void> {
    await this.flushBuffer(db);
    await Promise.allSettled([...this.writing]);
  }

  private record(deps: ObserveDeps, v: VersionRef, update: (c: Counters) => void): void {
    this.buffer.add(keyOf(v), update);
    this.schedule.afterCount(deps, this.buffer.due(deps.config.METRICS_FLUSH_SECONDS));
  }

  private async flushBuffer(db: Db): Promise<void> {
    const taken = this.buffer.take();
    if (taken.length === 0) return;
    const write = writeCounts(db, taken).catch((err: unknown) => {
      // Put the counts back: the next flush writes them with whatever came since.
      for (const { key, counters } of taken) this.buffer.add(key, (c) => addInto(c, counters));
      throw err;
    });
    this.writing.add(write);
    try {
      await write;
    } finally {
      this.writing.delete(write);
    }
  }
}
