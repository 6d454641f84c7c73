import { consumeBatch, consumeBatchDeadLetters } from './batch/consumer';
import type { Env } from './core/env';
import { platformDeps } from './deps';
import { createApp } from './http/app';
import { checkAllDrift } from './monitoring/drift/report';
import { flushMetrics } from './monitoring/observe';
import { repairArtifacts } from './registry/repair';
import { applyRetention } from './monitoring/retention';
import { consumeWebhookDeadLetters, consumeWebhooks } from './webhooks/consumer';
import { requeueStrandedDeliveries } from './webhooks/stranded';
import { pruneTriggerDeliveries } from './webhooks/triggers';

export { RateLimiter } from './ratelimit/rate-limiter';

const app = createApp();

/*
 * Queue names differ per wrangler environment (modelflare-batch, modelflare-staging-batch…),
 * so consumers are chosen by the name's ending.
 */
const consumers: [suffix: string, consume: typeof consumeBatch][] = [
  ['-batch-dlq', consumeBatchDeadLetters],
  ['-batch', consumeBatch],
  ['-webhooks-dlq', consumeWebhookDeadLetters],
  ['-webhooks', consumeWebhooks],
];

export default {
  fetch: app.fetch,

  async queue(batch, env, ctx) {
    const consume = consumers.find(([suffix]) => batch.queue.endsWith(suffix))?.[1];
    if (!consume) throw new Error(`no consumer for queue ${batch.queue}`);
    const deps = { ...platformDeps(env, ctx, { queue: batch.queue }), flushesWhenDone: true };
    try {
      await consume(batch, deps);
    } finally {
      await flushMetrics(deps.db);
    }
  },

  async scheduled(controller, env, ctx) {
    const deps = platformDeps(env, ctx, { cron: controller.cron });
    await flushMetrics(deps.db);
    await checkAllDrift(deps, controller.scheduledTime);
    await applyRetention(deps.db, deps.config, controller.scheduledTime);
    await pruneTriggerDeliveries(deps, controller.scheduledTime);
    await requeueStrandedDeliveries(deps, controller.scheduledTime, deps.config.REPAIR_GRACE_SECONDS);
    await repairArtifacts(deps, controller.scheduledTime, deps.config.REPAIR_GRACE_SECONDS);
  },
} satisfies ExportedHandler<Env>;
