import { and, eq } from 'drizzle-orm';
import { newId } from '../core/ids';
import { errorFields } from '../core/logger';
import type { RegistryDeps } from '../registry/types';
import { jobs, webhookDeliveries, webhookEndpoints, type WebhookEvent } from '../storage/schema';
import type { WebhookMessage } from './messages';

export interface EventDeps extends RegistryDeps {
  webhookQueue: Queue;
}

/**
 * Records one delivery per subscribed endpoint (and the job's own webhook URL, for job events)
 * and queues them; the queue consumer signs, sends and retries. Once recorded, an event is not
 * lost when the queue refuses it: the change that caused it has happened and must not fail
 * for it, and the cron trigger queues such deliveries later (stranded.ts).
 */
export async function emitEvent(
  deps: EventDeps,
  workspaceId: string,
  event: WebhookEvent,
  data: Record<string, unknown>,
  jobId?: string,
): Promise<string[]> {
  const endpoints = await deps.db
    .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.enabled, true)));
  const targets: { endpointId: string | null; jobId: string | null }[] = endpoints
    .filter((e) => e.events.includes(event))
    .map((e) => ({ endpointId: e.id, jobId: null }));
  if (jobId) {
    const job = await deps.db.query.jobs.findFirst({ where: eq(jobs.id, jobId), columns: { webhookUrl: true } });
    if (job?.webhookUrl) targets.push({ endpointId: null, jobId });
  }
  if (targets.length === 0) return [];
  const now = Date.now();
  const rows = targets.map((t) => {
    const id = newId('msg');
    const payload = JSON.stringify({ type: event, timestamp: new Date(now).toISOString(), data });
    return { id, workspaceId, endpointId: t.endpointId, jobId: t.jobId, event, payload, createdAt: now };
  });
  await deps.db.insert(webhookDeliveries).values(rows);
  try {
    await deps.webhookQueue.sendBatch(
      rows.map((r) => ({ body: { kind: 'deliver', deliveryId: r.id } satisfies WebhookMessage })),
    );
  } catch (err) {
    // The cron queues them later (stranded.ts).
    deps.logger.warn('webhook deliveries recorded but not queued', { event, ...errorFields(err) });
  }
  return rows.map((r) => r.id);
}
