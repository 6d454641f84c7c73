import type { Context } from 'hono';
import { afterCommit } from '../core/after-commit';
import type { WebhookEvent } from '../storage/schema';
import { emitEvent } from '../webhooks/events';
import type { AppEnv } from './app-env';

/**
 * Sends a webhook event about a change the caller just made. The change has happened: a
 * failing event write is retried after the response, never answered as an error.
 */
export function announce(c: Context<AppEnv>, event: WebhookEvent, data: Record<string, unknown>): Promise<void> {
  const deps = c.get('deps');
  return afterCommit(deps, `webhook event ${event}`, () =>
    emitEvent(deps, c.get('principal').workspaceId, event, data),
  );
}
