import type { Env } from './env';
import { predictionObserver } from '../monitoring/prediction-monitor';
import type { PredictionObserver } from '../inference/data-plane';
import { versionRef, type ServedVersion } from '../inference/served-versions';
import type { Logger } from '../core/logger';
import { errorFields } from '../core/logger';
import type { RateLimiter } from '../ratelimit/rate-limiter';
import type { IsolateServices } from './services';
import type { WatchedAlias } from '../monitoring/route-metrics';
import { judgeWatched } from '../rollouts/check';
import { database, type Db } from '../storage/db';
import type { RunnerGateway } from '../inference/backends/runner';
import { runnerGateway } from './runner-container';

/*
 * The composition root's per-invocation half: every entry point (fetch, queue, scheduled)
 * builds the same deps from the isolate's services and the invocation's bindings, so a route
 * and a queue consumer see the same platform. Modules never import this type: each declares
 * the slice of it that it touches.
 */
export interface PlatformDeps extends IsolateServices {
  env: Env;
  db: Db;
  bucket: R2Bucket;
  kv: KVNamespace;
  batchQueue: Queue;
  webhookQueue: Queue;
  rateLimiter: DurableObjectNamespace<RateLimiter>;
  /** The native runner, when configured (RUNNER_URL or the RUNNER container binding). */
  runner: RunnerGateway | undefined;
  /** This invocation's logger (its lines carry the request id or the queue's name). */
  logger: Logger;
  /** Work that may finish after the response; a failure is logged, never raised. */
  defer: (work: Promise<unknown>) => void;
  /** Where the data plane reports predictions. */
  observer: PredictionObserver;
  onLoad: (served: ServedVersion, ms: number) => void;
  onRefreshError: (err: unknown) => void;
  /** Judges the guards and steps of split aliases whose counts this invocation just wrote. */
  judgeRollouts: (aliases: WatchedAlias[]) => Promise<void>;
}

export function platformDeps(
  env: Env,
  services: IsolateServices,
  waitUntil: (work: Promise<unknown>) => void,
  logger: Logger = services.logger,
): PlatformDeps {
  const deps: PlatformDeps = {
    ...services,
    env,
    db: database(env.DB),
    bucket: env.BUCKET,
    kv: env.CACHE,
    batchQueue: env.BATCH_QUEUE,
    webhookQueue: env.WEBHOOK_QUEUE,
    rateLimiter: env.RATE_LIMITER,
    runner: runnerGateway(services.config, env),
    logger,
    defer: (work) => waitUntil(work.catch((err: unknown) => logger.warn('deferred work failed', errorFields(err)))),
    observer: undefined as unknown as PredictionObserver,
    onLoad: (served, ms) => services.metrics.load(deps, versionRef(served), ms),
    onRefreshError: (err) => logger.warn('background refresh failed; serving the copy', errorFields(err)),
    judgeRollouts: (aliases) => judgeWatched(deps, aliases, 'metrics-flush'),
  };
  deps.observer = predictionObserver(deps);
  return deps;
}
