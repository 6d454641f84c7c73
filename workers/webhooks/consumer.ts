import type { DeliveryDeps } from './delivery';
import { backoffSeconds } from '../core/backoff';
import { deliver, markDeliveryFailed } from './delivery';
import { WebhookMessage } from './messages';

export async function consumeWebhooks(batch: MessageBatch<unknown>, deps: DeliveryDeps): Promise<void> {
  for (const message of batch.messages) {
    const parsed = WebhookMessage.safeParse(message.body);
    if (!parsed.success) {
      message.ack();
      continue;
    }
    try {
      await deliver(deps, parsed.data.deliveryId);
      message.ack();
    } catch {
      message.retry({ delaySeconds: backoffSeconds(message.attempts, deps.config.WEBHOOK_RETRY_BASE_SECONDS) });
    }
  }
}

export async function consumeWebhookDeadLetters(batch: MessageBatch<unknown>, deps: DeliveryDeps): Promise<void> {
  for (const message of batch.messages) {
    const parsed = WebhookMessage.safeParse(message.body);
    if (parsed.success) await markDeliveryFailed(deps, parsed.data.deliveryId);
    message.ack();
  }
}
