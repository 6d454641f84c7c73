import { and, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { Db } from '../storage/db';
import { webhookDeliveries } from '../storage/schema';
import type { WebhookMessage } from './messages';

/*
 * A delivery recorded while the queue refused its message (events.ts) would wait forever: no
 * attempt was made, so no retry is scheduled. The cron trigger queues those that are older
 * than the grace period (a message still waiting in a busy queue is younger), once: the note
 * left in last_error keeps a later run from queueing it again.
 */

export const REQUEUED = 'not queued when recorded; queued again by the repair pass';
/** Ids per send and per update: D1 binds at most 100 parameters per statement. */
const PER_ROUND = 90;

export async function requeueStrandedDeliveries(
  deps: { db: Db; webhookQueue: Queue },
  now: number,
  graceSeconds: number,
): Promise<string[]> {
  const stranded = and(
    eq(webhookDeliveries.status, 'pending'),
    eq(webhookDeliveries.attempts, 0),
    isNull(webhookDeliveries.lastError),
    lt(webhookDeliveries.createdAt, now - graceSeconds * 1000),
  );
  const rows = await deps.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(stranded).limit(1000);
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += PER_ROUND) {
    const round = ids.slice(i, i + PER_ROUND);
    await deps.webhookQueue.sendBatch(
      round.map((deliveryId) => ({ body: { kind: 'deliver', deliveryId } satisfies WebhookMessage })),
    );
    await deps.db
      .update(webhookDeliveries)
      .set({ lastError: REQUEUED })
      .where(and(inArray(webhookDeliveries.id, round), stranded));
  }
  return ids;
}
