import { z } from 'zod';
import type { Env } from './env';

const MiB = 1024 * 1024;

/*
 * Defaults are sized for the deployed isolate's 128 MB: ORT's WASM heap holds a copy of each
 * loaded model beside the bytes being validated, so one model may use at most 24 MiB.
 */
const bytes = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const ConfigSchema = z
  .object({
    ENVIRONMENT: z.enum(['development', 'test', 'staging', 'production']).default('development'),
    MAX_MODEL_BYTES: bytes(24 * MiB),
    /** Loaded models kept per isolate, counted in model-file bytes. */
    SESSION_CACHE_BYTES: bytes(48 * MiB),
    /** How long an isolate trusts its resolution of a model/alias before asking D1 again. */
    REGISTRY_CACHE_TTL_SECONDS: z.coerce.number().min(0).max(300).default(5),
    /** Largest inference request body. */
    MAX_INFER_BYTES: bytes(8 * MiB),
    /** Largest JSONL upload for batch jobs (streamed to R2, never held in memory). */
    MAX_UPLOAD_BYTES: bytes(100 * MiB),
    /** Rows a job may carry inline in its JSON body. */
    MAX_INLINE_ROWS: z.coerce.number().int().positive().default(1000),
    /** Default rows per chunk (one queue message, one batched session.run). */
    BATCH_CHUNK_ROWS: z.coerce.number().int().min(1).max(10000).default(500),
    /** First retry delay of a failed chunk; doubles per attempt. */
    BATCH_RETRY_BASE_SECONDS: z.coerce.number().min(0).default(5),
    /** First retry delay of a failed webhook delivery; doubles per attempt. */
    WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().min(0).default(10),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  })
  .refine((c) => c.SESSION_CACHE_BYTES >= c.MAX_MODEL_BYTES, {
    error: 'SESSION_CACHE_BYTES must be at least MAX_MODEL_BYTES so the largest model fits',
  });

export type Config = z.infer<typeof ConfigSchema>;

const parsed = new WeakMap<object, Config>();

/** Reads and validates the environment once per isolate; a bad value fails loudly at start. */
export function configFrom(env: Env): Config {
  let config = parsed.get(env);
  if (!config) {
    const result = ConfigSchema.safeParse(env);
    if (!result.success) {
      throw new Error(`invalid configuration: ${z.prettifyError(result.error)}`);
    }
    config = result.data;
    parsed.set(env, config);
  }
  return config;
}
