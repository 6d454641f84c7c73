import { consumeBatch, consumeBatchDeadLetters } from './batch/consumer';
import type { Env } from './core/env';
import { platformDeps } from './deps';
import { createApp } from './http/app';
import { checkAllDrift } from './monitoring/drift/report';
import { flushMetrics } from './monitoring/observe';
import { repairArtifacts } from './registry/repair';
import { applyRetention } from './monitoring/retention';
import { consumeWebhookDeadLetters, consumeWebhooks } from './webhooks/consumer';
import { reencryptSecrets } from './webhooks/reencrypt-secrets';
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

/** Says what a pass moved and what is left, so an operator knows when a former key can go. */
async function reencryptAndReport(deps: ReturnType<typeof platformDeps>): Promise<void> {
  const result = await reencryptSecrets(deps.db, deps.config);
  if (result.reencrypted + result.expiredCleared + result.unreadable + result.remaining === 0) return;
  const level = result.unreadable > 0 || result.keyMissing ? 'warn' : 'info';
  console.log(JSON.stringify({ level, msg: 'stored secrets re-encrypted', ...result }));
}

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
    const at = controller.scheduledTime;
    const grace = deps.config.REPAIR_GRACE_SECONDS;
    // Independent chores: one failing (D1 down for drift's query) must not skip the repairs after it.
    const chores: [string, () => Promise<unknown>][] = [
      ['metrics', () => flushMetrics(deps.db)],
      ['drift', () => checkAllDrift(deps, at)],
      ['retention', () => applyRetention(deps.db, deps.config, at)],
      ['trigger deliveries', () => pruneTriggerDeliveries(deps, at)],
      ['stranded webhooks', () => requeueStrandedDeliveries(deps, at, grace)],
      ['artifact repair', () => repairArtifacts(deps, at, grace)],
      ['secret re-encryption', () => reencryptAndReport(deps)],
    ];
    const failed: string[] = [];
    for (const [chore, run] of chores) {
      try {
        await run();
      } catch (err) {
        failed.push(chore);
        console.error(JSON.stringify({ level: 'error', msg: 'cron chore failed', chore, error: String(err) }));
      }
    }
    // Reported as a failed invocation too, so the platform's cron status shows it.
    if (failed.length > 0) throw new Error(`cron chores failed: ${failed.join(', ')}`);
  },
} satisfies ExportedHandler<Env>;
