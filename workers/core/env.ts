/** Bindings and variables the worker receives; declared in wrangler.toml and .dev.vars. */
export interface Env {
  DB: D1Database;
  BUCKET: R2Bucket;
  CACHE: KVNamespace;
  BATCH_QUEUE: Queue;
  WEBHOOK_QUEUE: Queue;
  ADMIN_API_KEY?: string;
  ENVIRONMENT?: string;
  MAX_MODEL_BYTES?: string;
  SESSION_CACHE_BYTES?: string;
  REGISTRY_CACHE_TTL_SECONDS?: string;
  MAX_INFER_BYTES?: string;
  MAX_UPLOAD_BYTES?: string;
  MAX_INLINE_ROWS?: string;
  BATCH_CHUNK_ROWS?: string;
  BATCH_RETRY_BASE_SECONDS?: string;
  WEBHOOK_RETRY_BASE_SECONDS?: string;
  WEBHOOK_TIMEOUT_MS?: string;
}
