import type { RateLimiter } from '../ratelimit/rate-limiter';

/**
 * Bindings and variables the worker receives; declared in wrangler.toml and .dev.vars.
 * Variables are parsed and checked in config.ts.
 */
export interface Env {
  DB: D1Database;
  BUCKET: R2Bucket;
  CACHE: KVNamespace;
  BATCH_QUEUE: Queue;
  WEBHOOK_QUEUE: Queue;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  ADMIN_API_KEY?: string;
  ENVIRONMENT?: string;
  MAX_MODEL_BYTES?: string;
  MAX_MODEL_NODES?: string;
  MAX_JSON_BODY_BYTES?: string;
  MAX_PREDICT_BODY_BYTES?: string;
  SESSION_CACHE_BYTES?: string;
  ORT_HEAP_MAX_BYTES?: string;
  REGISTRY_CACHE_TTL_SECONDS?: string;
  CREDENTIAL_CACHE_TTL_SECONDS?: string;
  MAX_UPLOAD_BYTES?: string;
  MAX_INLINE_ROWS?: string;
  BATCH_CHUNK_ROWS?: string;
  BATCH_RETRY_BASE_SECONDS?: string;
  WEBHOOK_RETRY_BASE_SECONDS?: string;
  WEBHOOK_TIMEOUT_MS?: string;
  WEBHOOK_ALLOWED_PORTS?: string;
  CACHE_READ_TIMEOUT_MS?: string;
  REPAIR_GRACE_SECONDS?: string;
  METRICS_FLUSH_SECONDS?: string;
  METRICS_RETENTION_DAYS?: string;
  PREDICTION_LOG_RETENTION_DAYS?: string;
  METRICS_SCRAPE_TOKEN?: string;
  JWT_SECRET?: string;
  SECRETS_ENCRYPTION_KEY?: string;
  SECRETS_PREVIOUS_KEYS?: string;
  JWT_PREVIOUS_SECRETS?: string;
  JWT_PRIVATE_KEY?: string;
  JWT_PREVIOUS_PUBLIC_KEYS?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  ACCESS_TOKEN_TTL_SECONDS?: string;
  REFRESH_TOKEN_TTL_SECONDS?: string;
  CORS_ORIGINS?: string;
  RATE_LIMIT_PREDICTION?: string;
  RATE_LIMIT_MANAGEMENT?: string;
  RATE_LIMIT_WINDOW_SECONDS?: string;
  RATE_LIMIT_AUTH?: string;
}
