import type { Db } from '../storage/db';
import type { ObserveDeps } from './observe';

/**
 * When an isolate's buffered counts get written: at once when they are due, else a timer from
 * the first count, so quiet traffic does not leave counts waiting for a request that may never
 * come. The response's waitUntil keeps the isolate alive until then (hence the 25 s cap).
 * An invocation that flushes when it is done needs neither.
 */
export class FlushSchedule {
  private scheduled = false;

  constructor(private readonly flush: (db: Db, deps: ObserveDeps) => Promise<void>) {}

  afterCount(deps: ObserveDeps, due: boolean): void {
    if (deps.flushesWhenDone) return;
    if (due) {
      deps.defer(this.flush(deps.db, deps));
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = new Promise((resolve) => setTimeout(resolve, deps.config.METRICS_FLUSH_SECONDS * 1000));
    deps.defer(wait.then(() => this.flush(deps.db, deps)).finally(() => (this.scheduled = false)));
  }
}
