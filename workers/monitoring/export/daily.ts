import { and, gte, inArray, lt } from 'drizzle-orm';
import type { Config } from '../../core/config';
import type { Logger } from '../../core/logger';
import type { Db } from '../../storage/db';
import { predictionExportKey } from '../../storage/r2-keys';
import { predictionExportDays, predictionLogs } from '../../storage/schema';
import { exportPages } from './stream';

/*
 * The optional daily export (PREDICTION_EXPORT_DAILY): each whole UTC day's logged predictions
 * of every model, with their feedback, written once to R2 as JSON Lines under
 * exports/<workspace>/predictions/<model>/<YYYY-MM-DD>.jsonl. The cron trigger looks at the
 * last EXPORT_DAYS_BACK days not marked done; a file already in R2 is not written again, so a
 * run cut short goes on where it stopped. A day is done when every model's file is there.
 * Feedback that arrives after a day was written is in the export API, not the file.
 */

export const EXPORT_DAYS_BACK = 3;
/** Files written per cron run: the rest wait for the next run. */
export const MAX_FILES_PER_RUN = 20;
/** R2 multipart parts (every part but the last must be this size, and at least 5 MiB). */
export const PART_BYTES = 8 * 1024 * 1024;

const DAY = 86_400_000;

export interface DailyExportDeps {
  db: Db;
  bucket: R2Bucket;
  config: Config;
  logger: Logger;
}

const dayName = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

export async function exportDailyPredictions(
  deps: DailyExportDeps,
  now = Date.now(),
): Promise<{ files: number; rows: number }> {
  const written = { files: 0, rows: 0 };
  if (!deps.config.PREDICTION_EXPORT_DAILY) return written;
  const today = Math.floor(now / DAY);
  const days = Array.from({ length: EXPORT_DAYS_BACK }, (_, i) => today - EXPORT_DAYS_BACK + i);
  const done = new Set(
    (
      await deps.db
        .select({ day: predictionExportDays.day })
        .from(predictionExportDays)
        .where(inArray(predictionExportDays.day, days.map(dayName)))
    ).map((d) => d.day),
  );
  for (const day of days) {
    const name = dayName(day);
    if (done.has(name)) continue;
    const models = await deps.db
      .select({ workspaceId: predictionLogs.workspaceId, model: predictionLogs.model })
      .from(predictionLogs)
      .where(and(gte(predictionLogs.createdAt, day * DAY), lt(predictionLogs.createdAt, (day + 1) * DAY)))
      .groupBy(predictionLogs.workspaceId, predictionLogs.model);
    let files = 0;
    let rows = 0;
    for (const { workspaceId, model } of models) {
      const key = predictionExportKey(workspaceId, model, name);
      if (await deps.bucket.head(key)) {
        files += 1;
        continue;
      }
      if (written.files >= MAX_FILES_PER_RUN) return written;
      const pages = exportPages(deps.db, {
        workspaceId,
        model,
        from: day * DAY,
        to: (day + 1) * DAY,
        format: 'jsonl',
        featureNames: null,
      });
      const count = await writeObject(deps.bucket, key, pages);
      files += 1;
      rows += count;
      written.files += 1;
      written.rows += count;
    }
    await deps.db
      .insert(predictionExportDays)
      .values({ day: name, files, rows, finishedAt: now })
      .onConflictDoNothing();
    deps.logger.info('predictions exported', { day: name, files, rows });
  }
  return written;
}

const encoder = new TextEncoder();

/** Writes the pages to one R2 object (multipart once it passes a part); answers the rows written. */
async function writeObject(
  bucket: R2Bucket,
  key: string,
  pages: AsyncIterable<{ text: string; rows: number }>,
): Promise<number> {
  let rows = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let upload: R2MultipartUpload | undefined;
  const parts: R2UploadedPart[] = [];
  const take = (bytes: number): Uint8Array => {
    const out = new Uint8Array(bytes);
    let at = 0;
    while (at < bytes) {
      const head = pending[0]!;
      const n = Math.min(head.length, bytes - at);
      out.set(head.subarray(0, n), at);
      at += n;
      if (n === head.length) pending.shift();
      else pending[0] = head.subarray(n);
    }
    pendingBytes -= bytes;
    return out;
  };
  try {
    for await (const page of pages) {
      rows += page.rows;
      const bytes = encoder.encode(page.text);
      pending.push(bytes);
      pendingBytes += bytes.length;
      while (pendingBytes >= PART_BYTES) {
        upload ??= await bucket.createMultipartUpload(key, { httpMetadata: { contentType: 'application/x-ndjson' } });
        parts.push(await upload.uploadPart(parts.length + 1, take(PART_BYTES)));
      }
    }
    if (!upload) {
      await bucket.put(key, take(pendingBytes), { httpMetadata: { contentType: 'application/x-ndjson' } });
      return rows;
    }
    if (pendingBytes > 0) parts.push(await upload.uploadPart(parts.length + 1, take(pendingBytes)));
    await upload.complete(parts);
    return rows;
  } catch (err) {
    await upload?.abort().catch(() => undefined);
    throw err;
  } finally {
    pending = [];
  }
}
