import type { ConfigVars } from '../core/config';
import type { RateLimiter } from '../ratelimit/rate-limiter';
import type { RunnerContainer } from './runner-container';

/** The bindings wrangler.toml declares. */
export interface Bindings {
  DB: D1Database;
  BUCKET: R2Bucket;
  CACHE: KVNamespace;
  BATCH_QUEUE: Queue;
  WEBHOOK_QUEUE: Queue;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** The native runner's containers (deployed environments); locally RUNNER_URL is used instead. */
  RUNNER?: DurableObjectNamespace<RunnerContainer>;
}

/** What the worker receives: the bindings, and the variables and secrets config.ts reads. */
export type Env = Bindings & ConfigVars;
