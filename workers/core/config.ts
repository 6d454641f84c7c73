import { z } from 'zod';
import type { Env } from './env';

const MiB = 1024 * 1024;

/*
 * Defaults are sized for the deployed isolate's 128 MB: ORT's WASM heap holds a copy of each
 * loaded model beside the bytes being validated, so one model may use at most 24 MiB.
 */
const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'test', 'staging', 'production']).default('development'),
  MAX_MODEL_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(24 * MiB),
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
