import { and, eq } from 'drizzle-orm';
import type { Config } from '../core/config';
import { DomainError } from '../core/errors';
import type { RegistryDeps } from '../registry/types';
import { jobs, webhookDeliveries, webhookEndpoints } from '../storage/schema';
import { signatureHeaders } from './secrets';
import type { WebhookMessage } from './messages';
import { openSigningSecrets, openStoredSecret, secretContext } from './stored-secrets';
import { checkWebhookUrl } from './url-policy';

/*
 * Sends one recorded delivery, signed per Standard Webhooks with the delivery id as
 * `webhook-id` (the same on every attempt, so receivers can deduplicate). Every attempt is
 * recorded; anything but a 2xx answer throws so the queue retries with backoff.
 */

export interface DeliveryDeps extends RegistryDeps {
  config: Config;
  webhookQueue: Queue;
}

export class DeliveryFailed extends Error {}

async function destination(deps: DeliveryDeps, delivery: typeof webhookDeliveries.$inferSelect) {
  if (delivery.endpointId) {
    const endpoint = await deps.db.query.webhookEndpoints.findFirst({
      where: eq(webhookEndpoints.id, delivery.endpointId),
    });
    if (!endpoint || !endpoint.enabled) return undefined;
    return {
      url: endpoint.url,
      secrets: await openSigningSecrets(deps.config, secretContext.endpoint(endpoint.id), endpoint),
    };
  }
  const job = delivery.jobId ? await deps.db.query.jobs.findFirst({ where: eq(jobs.id, delivery.jobId) }) : undefined;
  if (!job?.webhookUrl || !job.webhookSecret) return undefined;
  return {
    url: job.webhookUrl,
    secrets: [await openStoredSecret(deps.config, secretContext.job(job.id), job.webhookSecret)],
  };
}

/** The URL policy at send time: URLs saved under an older, looser rule are not sent to. */
function urlRefusal(url: string, config: Config): string | undefined {
  try {
    checkWebhookUrl(url, config);
    return undefined;
  } catch (err) {
    if (err instanceof DomainError) return err.message;
    throw err;
  }
}

async function record(deps: DeliveryDeps, id: string, changes: Partial<typeof webhookDeliveries.$inferInsert>) {
  await deps.db.update(webhookDeliveries).set(changes).where(eq(webhookDeliveries.id, id));
}

/** Returns quietly when the delivery is done (sent, or nowhere to send); throws to retry. */
export async function deliver(deps: DeliveryDeps, deliveryId: string): Promise<void> {
  const delivery = await deps.db.query.webhookDeliveries.findFirst({ where: eq(webhookDeliveries.id, deliveryId) });
  if (!delivery || delivery.status === 'succeeded') return;
  const attempts = delivery.attempts + 1;
  let target: Awaited<ReturnType<typeof destination>>;
  try {
    target = await destination(deps, delivery);
  } catch (err) {
    // A missing or unknown encryption key: retried, since fixing the configuration cures it.
    if (!(err instanceof DomainError)) throw err;
    await record(deps, deliveryId, { status: 'pending', attempts, lastError: err.message, lastAttemptAt: Date.now() });
    throw new DeliveryFailed(err.message);
  }
  if (!target) {
    await record(deps, deliveryId, { status: 'failed', attempts, lastError: 'the endpoint was deleted or disabled' });
    return;
  }
  const refused = urlRefusal(target.url, deps.config);
  if (refused) {
    // No retry: the URL will not become acceptable by waiting.
    await record(deps, deliveryId, { status: 'failed', attempts, lastError: refused });
    return;
  }
  let status: number | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'modelflare-webhooks/1',
        ...signatureHeaders(target.secrets, delivery.id, delivery.payload),
      },
      body: delivery.payload,
      signal: AbortSignal.timeout(deps.config.WEBHOOK_TIMEOUT_MS),
      redirect: 'manual',
    });
    status = response.status;
    await response.body?.cancel();
    if (!response.ok) error = `the endpoint answered ${status}`;
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const now = Date.now();
  if (error === null) {
    await record(deps, deliveryId, {
      status: 'succeeded',
      attempts,
      lastStatusCode: status,
      lastError: null,
      lastAttemptAt: now,
      deliveredAt: now,
    });
    return;
  }
  await record(deps, deliveryId, {
    status: 'pending',
    attempts,
    lastStatusCode: status,
    lastError: error,
    lastAttemptAt: now,
  });
  throw new DeliveryFailed(error);
}

/** The dead-letter queue's verdict: no more attempts. */
export async function markDeliveryFailed(deps: DeliveryDeps, deliveryId: string): Promise<void> {
  await deps.db
    .update(webhookDeliveries)
    .set({ status: 'failed' })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending')));
}

/** Sends a delivery again, whatever became of it (the same webhook-id: receivers dedupe). */
export async function resend(deps: DeliveryDeps, deliveryId: string): Promise<void> {
  await record(deps, deliveryId, { status: 'pending' });
  await deps.webhookQueue.send({ kind: 'deliver', deliveryId } satisfies WebhookMessage);
}
