import { consumeBatch, consumeBatchDeadLetters } from './batch/consumer';
import { configFrom } from './core/config';
import { errorFields } from './core/logger';
import { platformDeps, type PlatformDeps } from './platform/deps';
import type { Env } from './platform/env';
import { createApp } from './http/app';
import { evaluateAllAlerts } from './monitoring/alerts/evaluate';
import { checkAllDrift } from './monitoring/drift/report';
import { pruneRouteRollups } from './monitoring/route-metrics';
import { judgeAllRollouts, ROLLOUT_CRON } from './rollouts/check';
import { exportDailyPredictions } from './monitoring/export/daily';
import { applyRetention } from './monitoring/retention';
import { repairArtifacts } from './registry/repair';
import { createServices, type IsolateServices } from './platform/services';
import { consumeWebhookDeadLetters, consumeWebhooks } from './webhooks/consumer';
import { reencryptSecrets } from './webhooks/reencrypt-secrets';
import { requeueStrandedDeliveries } from './webhooks/stranded';
import { pruneTriggerDeliveries } from './batch/triggers';

export { RateLimiter } from './ratelimit/rate-limiter';
export { RunnerContainer } from './platform/runner-container';
// Lets the runner containers' outbound requests for model files be answered by the worker.
export { ContainerProxy } from '@cloudflare/containers';

type Consume = (batch: MessageBatch<unknown>, deps: PlatformDeps) => Promise<void>;

/*
 * Queue names differ per wrangler environment (modelflare-batch, modelflare-staging-batch…),
 * so consumers are chosen by the name's ending.
 */
const consumers: [suffix: string, consume: Consume][] = [
  ['-batch-dlq', consumeBatchDeadLetters],
  ['-batch', consumeBatch],
  ['-webhooks-dlq', consumeWebhookDeadLetters],
  ['-webhooks', consumeWebhooks],
];

/** Says what a pass moved and what is left, so an operator knows when a former key can go. */
async function reencryptAndReport(deps: PlatformDeps): Promise<void> {
  const result = await reencryptSecrets(deps.db, deps.config);
  if (result.reencrypted + result.expiredCleared + result.unreadable + result.remaining === 0) return;
  const fields = { ...result };
  if (result.unreadable > 0 || result.keyMissing) deps.logger.warn('stored secrets re-encrypted', fields);
  else deps.logger.info('stored secrets re-encrypted', fields);
}

/**
 * The worker: its three entry points over one set of isolate services, built on the first
 * invocation from the configuration. Tests make their own to start from empty caches.
 */
export function createWorker() {
  const built = new WeakMap<Env, IsolateServices>();
  const servicesFor = (env: Env): IsolateServices => {
    let services = built.get(env);
    if (!services) {
      services = createServices(configFrom(env));
      built.set(env, services);
    }
    return services;
  };
  const app = createApp(servicesFor);

  return {
    servicesFor,
    app,

    fetch: app.fetch,

    async queue(batch, env, ctx) {
      const services = servicesFor(env);
      const consume = consumers.find(([suffix]) => batch.queue.endsWith(suffix))?.[1];
      if (!consume) throw new Error(`no consumer for queue ${batch.queue}`);
      const logger = services.logger.with({ queue: batch.queue });
      const deps = { ...platformDeps(env, services, (w) => ctx.waitUntil(w), logger), flushesWhenDone: true };
      try {
        await consume(batch, deps);
      } finally {
        await services.metrics.flush(deps.db);
      }
    },

    async scheduled(controller, env, ctx) {
      const services = servicesFor(env);
      const logger = services.logger.with({ cron: controller.cron });
      const deps = platformDeps(env, services, (w) => ctx.waitUntil(w), logger);
      const at = controller.scheduledTime;
      const grace = deps.config.REPAIR_GRACE_SECONDS;
      // Independent chores: one failing (D1 down for drift's query) must not skip the repairs after it.
      const rollouts: [string, () => Promise<unknown>][] = [
        ['route metrics', () => services.routeMetrics.flush(deps)],
        ['rollouts', () => judgeAllRollouts(deps, at)],
      ];
      const chores: [string, () => Promise<unknown>][] =
        controller.cron === ROLLOUT_CRON
          ? rollouts
          : [
              ['metrics', () => services.metrics.flush(deps.db)],
              ['failed requests', () => services.failures.flush(deps.db)],
              ['drift', () => checkAllDrift(deps, at)],
              // After drift: a drift rule reads the report this run just made.
              ['alerts', () => evaluateAllAlerts(deps, at)],
              ['prediction export', () => exportDailyPredictions(deps, at)],
              ['retention', () => applyRetention(deps.db, deps.config, at)],
              ['trigger deliveries', () => pruneTriggerDeliveries(deps, at)],
              ['stranded webhooks', () => requeueStrandedDeliveries(deps, at, grace)],
              ['artifact repair', () => repairArtifacts(deps, at, grace)],
              ['secret re-encryption', () => reencryptAndReport(deps)],
              [
                'route retention',
                () => pruneRouteRollups(deps.db, Math.floor(at / 60000) - deps.config.METRICS_RETENTION_DAYS * 1440),
              ],
              ...rollouts,
            ];
      const failed: string[] = [];
      for (const [chore, run] of chores) {
        try {
          await run();
        } catch (err) {
          failed.push(chore);
          logger.error('cron chore failed', { chore, ...errorFields(err) });
        }
      }
      // Reported as a failed invocation too, so the platform's cron status shows it.
      if (failed.length > 0) throw new Error(`cron chores failed: ${failed.join(', ')}`);
    },
  } satisfies ExportedHandler<Env> & { servicesFor: typeof servicesFor; app: typeof app };
}

const worker = createWorker();

export default {
  fetch: worker.fetch,
  queue: worker.queue,
  scheduled: worker.scheduled,
} satisfies ExportedHandler<Env>;
