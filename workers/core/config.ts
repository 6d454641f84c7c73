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
