import type { ConfigVars } from '../core/config';
import type { RateLimiter } from '../ratelimit/rate-limiter';

/** The bindings wrangler.toml declares. */
export interface Bindings {
  DB: D1Database;
  BUCKET: R2Bucket;
  CACHE: KVNamespace;
  BATCH_QUEUE: Queue;
  WEBHOOK_QUEUE: Queue;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
}

/** What the worker receives: the bindings, and the variables and secrets config.ts reads. */
export type Env = Bindings & ConfigVars;
