import { lt } from 'drizzle-orm';
import type { Config } from '../core/config';
import type { Db } from '../storage/db';
import { alertEvents, driftBins, driftReports, metricRollups, requestFailures } from '../storage/schema';
import { pruneLogs } from './predictions';

const DAY = 86_400_000;
/** Drift windows are at most 30 days; older hourly bins can no longer be read. */
const DRIFT_BIN_DAYS = 31;

/**
 * Applied by the cron trigger: minute rollups, drift reports, failed requests and alert history
 * past METRICS_RETENTION_DAYS, logged predictions past theirs, drift bins no window can read.
 */
export async function applyRetention(db: Db, config: Config, now = Date.now()): Promise<void> {
  const metricsBefore = now - config.METRICS_RETENTION_DAYS * DAY;
  await db.batch([
    db.delete(metricRollups).where(lt(metricRollups.minute, Math.floor(metricsBefore / 60000))),
    db.delete(driftReports).where(lt(driftReports.createdAt, metricsBefore)),
    db.delete(requestFailures).where(lt(requestFailures.createdAt, metricsBefore)),
    db.delete(alertEvents).where(lt(alertEvents.createdAt, metricsBefore)),
    db.delete(driftBins).where(lt(driftBins.hour, Math.floor((now - DRIFT_BIN_DAYS * DAY) / 3_600_000))),
  ]);
  await pruneLogs(db, now - config.PREDICTION_LOG_RETENTION_DAYS * DAY);
}
