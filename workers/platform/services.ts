import { CredentialCache } from '../auth/authenticate';
import { PredictionCache } from '../cache/prediction-cache';
import { ChangeFeed } from '../core/change-feed';
import { ortHeapLimit, type Config } from '../core/config';
import { createLogger, type Logger } from '../core/logger';
import { CircuitBreakers } from '../inference/backends/circuit-breaker';
import { ServedVersionCache } from '../inference/served-versions';
import { SessionCache } from '../inference/session-cache';
import { DriftCounts } from '../monitoring/drift/observe-features';
import { FailureLog } from '../monitoring/failures';
import { Metrics } from '../monitoring/observe';
import { RouteMetrics } from '../monitoring/route-metrics';
import { LocalBudgets } from '../ratelimit/local-budgets';
import { onOutOfMemory } from '../runtime/onnx-session';
import { limitOrtHeap } from '../runtime/ort-env';

/*
 * What an isolate keeps between requests, built once from the configuration when the isolate
 * serves its first invocation, and handed to code through deps. Nothing is wired at import
 * time and nothing is reconfigured per request.
 */
export interface IsolateServices {
  config: Config;
  logger: Logger;
  /** Writers announce changes here; the caches below drop what changed at once. */
  changes: ChangeFeed;
  /** Loaded models, LRU by bytes (SESSION_CACHE_BYTES). */
  sessions: SessionCache;
  /** Model/alias resolutions, served while they refresh. */
  servedVersions: ServedVersionCache;
  /** The prediction cache's in-isolate tier. */
  predictionCache: PredictionCache;
  /** What credentials grant, served while it refreshes. */
  credentials: CredentialCache;
  /** Request counts and latencies, buffered before D1. */
  metrics: Metrics;
  /** Drift histogram counts, buffered before D1. */
  drift: DriftCounts;
  /** What split aliases' routes served and their shadows compared, buffered before D1. */
  routeMetrics: RouteMetrics;
  /** Draws routes for requests without a routing key, and which requests are mirrored (tests seed it). */
  random: () => number;
  /** The latest failing requests, buffered before D1 (the dashboard's errors view). */
  failures: FailureLog;
  /** Request budgets, decided here and reported to their Durable Objects after. */
  budgets: LocalBudgets;
  /** A circuit per runner instance and remote server. */
  breakers: CircuitBreakers;
}

export function createServices(config: Config, logger: Logger = createLogger()): IsolateServices {
  // onnxruntime's WASM instance is one per isolate, whatever services use it.
  limitOrtHeap(ortHeapLimit(config));
  const changes = new ChangeFeed();
  const sessions = new SessionCache(config.SESSION_CACHE_BYTES);
  // A session counts its file's size, yet can hold far more heap: a load that runs out of
  // memory frees every cached session and tries once more.
  onOutOfMemory(() => sessions.evictAll() > 0);
  const credentials = new CredentialCache();
  changes.onAccessChange(() => credentials.forgetAll());
  return {
    config,
    logger,
    changes,
    sessions,
    servedVersions: new ServedVersionCache(changes),
    predictionCache: new PredictionCache(),
    credentials,
    metrics: new Metrics(),
    drift: new DriftCounts(),
    routeMetrics: new RouteMetrics(),
    random: Math.random,
    failures: new FailureLog(),
    budgets: new LocalBudgets(),
    breakers: new CircuitBreakers(config.BACKEND_BREAKER_FAILURES, config.BACKEND_BREAKER_SECONDS * 1000),
  };
}
