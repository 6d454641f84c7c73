/** Bindings and variables the worker receives; declared in wrangler.toml and .dev.vars. */
export interface Env {
  DB: D1Database;
  BUCKET: R2Bucket;
  CACHE: KVNamespace;
  BATCH_QUEUE: Queue;
  ADMIN_API_KEY?: string;
  ENVIRONMENT?: string;
  MAX_MODEL_BYTES?: string;
  SESSION_CACHE_BYTES?: string;
  REGISTRY_CACHE_TTL_SECONDS?: string;
  MAX_INFER_BYTES?: string;
}
