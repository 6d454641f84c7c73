import { z } from 'zod';
import { keyBytesFrom } from './secret-box';

const MiB = 1024 * 1024;

/*
 * Defaults are sized for the deployed isolate's 128 MB: ORT's WASM heap holds a copy of each
 * loaded model beside the bytes being validated, so one model may use at most 24 MiB.
 */
const count = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

/** A comma-separated list in one variable; blanks between commas are ignored. */
const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

/** `https://app.example.com`: scheme, host and port, exactly as browsers send Origin. */
const Origin = z.string().regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i, {
  error: 'CORS_ORIGINS holds origins such as https://app.example.com (no path, no trailing slash) or *',
});

const Port = z
  .string()
  .regex(/^\d{1,5}$/, { error: 'WEBHOOK_ALLOWED_PORTS holds port numbers such as 8443' })
  .transform(Number)
  .pipe(z.number().int().min(1).max(65535));

const KEY_HINT =
  "32 random bytes in base64, e.g. node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64'))\"";
const SecretKey = z.string().transform((text, ctx) => {
  const bytes = keyBytesFrom(text);
  if (!bytes) {
    ctx.issues.push({ code: 'custom', input: text, message: `secrets encryption keys are ${KEY_HINT}` });
    return z.NEVER;
  }
  return bytes;
});

const JwtSecret = z.string().min(32, { error: 'JWT secrets must be at least 32 characters' });

/** A variable that holds JSON, checked by `schema` once parsed. */
const jsonOf = <T extends z.ZodType>(schema: T, what: string) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.issues.push({ code: 'custom', input: text, message: `${what} must be JSON` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const Ed25519Public = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(43) });
const ED25519_HINT = 'an Ed25519 JWK such as {"kty":"OKP","crv":"Ed25519","x":"…","d":"…"}';

const ConfigSchema = z
  .object({
    /**
     * Unset means production: only the local setup (wrangler.toml's top-level [vars], npm start,
     * the tests, the bench and the soak) says development or test, which relax the webhook URL
     * policy and HSTS.
     */
    ENVIRONMENT: z.enum(['development', 'test', 'staging', 'production']).default('production'),
    MAX_MODEL_BYTES: count(24 * MiB),
    /**
     * Largest model file the native runner serves (files over MAX_MODEL_BYTES go to it); such
     * uploads stream to R2 in parts, never held in memory.
     */
    MAX_RUNNER_MODEL_BYTES: count(2048 * MiB),
    /**
     * Where the native runner answers (an Open Inference Protocol server, runner/): set locally
     * (npm start) and wherever the runner runs outside Cloudflare Containers. Unset: the RUNNER
     * container binding, if there is one.
     */
    RUNNER_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** What the worker and the runner present to each other (a secret, 32+ characters). */
    RUNNER_TOKEN: z.string().min(32, { error: 'RUNNER_TOKEN must be at least 32 characters' }).optional(),
    /** Runner container instances models are spread over (each model always lands on one). */
    RUNNER_INSTANCES: count(2, 64),
    /** How long a runner call may take: a cold call loads the model first. */
    RUNNER_TIMEOUT_MS: count(120_000, 600_000),
    /** How long a call to a remote server may take, unless the version sets its own. */
    REMOTE_TIMEOUT_MS: count(10_000, 600_000),
    /** Consecutive failures of a backend that open its circuit (calls then fail at once). */
    BACKEND_BREAKER_FAILURES: count(5, 1000),
    /** How long an open circuit stays open before one call is let through to try again. */
    BACKEND_BREAKER_SECONDS: count(10, 3600),
    /** Nodes in a model's main graph: session creation costs CPU in proportion to them. */
    MAX_MODEL_NODES: count(20_000),
    /** Loaded models kept per isolate, counted in model-file bytes. */
    SESSION_CACHE_BYTES: count(48 * MiB),
    /**
     * Largest heap onnxruntime's WASM may grow to in an isolate; loads and runs that need more
     * fail with a 4xx. Unset: the session cache, two of the largest model and ORT's own 16 MiB.
     */
    ORT_HEAP_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(32 * MiB)
      .optional(),
    /**
     * How old an isolate's copy of a model/alias resolution may get before a request refreshes
     * it from D1 in the background (the request itself is answered from the copy).
     */
    REGISTRY_CACHE_TTL_SECONDS: z.coerce.number().min(0).max(300).default(5),
    /** The same for what D1 said about a live API key, session or membership. */
    CREDENTIAL_CACHE_TTL_SECONDS: z.coerce.number().min(0).max(60).default(5),
    /**
     * The consistency bound: a copy read from D1 longer ago than this is never served; the
     * request waits for D1 instead. A revoked key, a removed member, a moved alias or a changed
     * limit take effect in every isolate within it (in the isolate that made the change, at once).
     */
    CACHE_STALE_LIMIT_SECONDS: z.coerce.number().min(1).max(300).default(10),
    /** Largest JSONL upload for batch jobs (streamed to R2, never held in memory). */
    MAX_UPLOAD_BYTES: count(100 * MiB),
    /** Rows a job may carry inline in its JSON body. */
    MAX_INLINE_ROWS: count(1000),
    /** Default rows per chunk (one queue message, one batched session.run). */
    BATCH_CHUNK_ROWS: count(500, 10000),
    /** First retry delay of a failed chunk; doubles per attempt. */
    BATCH_RETRY_BASE_SECONDS: z.coerce.number().min(0).default(5),
    /** First retry delay of a failed webhook delivery; doubles per attempt. */
    WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().min(0).default(10),
    WEBHOOK_TIMEOUT_MS: count(10000),
    /** Ports webhook URLs may name besides 443 and 80 outside local development. */
    WEBHOOK_ALLOWED_PORTS: list(Port),
    /** A prediction-cache read that takes longer is given up: the model answers instead. */
    CACHE_READ_TIMEOUT_MS: count(500),
    /**
     * Work left half-done by a failure (an R2 file no version row took, a webhook delivery
     * recorded but never queued) is repaired by the cron trigger once it is this old.
     */
    REPAIR_GRACE_SECONDS: count(900),
    /** How long an isolate buffers metrics before writing them to D1 (waitUntil lasts 30 s). */
    METRICS_FLUSH_SECONDS: z.coerce.number().min(0).max(25).default(10),
    /** A shadow run (after the response) that takes longer is given up and counted as an error. */
    SHADOW_TIMEOUT_MS: count(5000, 25_000),
    /**
     * How often an isolate judges, when it writes its counts, the guards and steps of the split
     * aliases it serves (the cron trigger judges every one each minute besides).
     */
    ROLLOUT_CHECK_SECONDS: z.coerce.number().min(0).max(60).default(20),
    /** Minute rollups are kept this long (the cron trigger deletes older ones). */
    METRICS_RETENTION_DAYS: count(30, 3650),
    /** Logged predictions and their feedback are kept this long. */
    PREDICTION_LOG_RETENTION_DAYS: count(30, 3650),
    /** Writes each day's logged predictions, with feedback, to R2 as JSON Lines (the cron trigger). */
    PREDICTION_EXPORT_DAILY: z
      .enum(['true', 'false'], { error: 'PREDICTION_EXPORT_DAILY is true or false' })
      .default('false')
      .transform((v) => v === 'true'),
    /** Bearer token that may read GET /metrics besides the admin key (Prometheus scrapes). */
    METRICS_SCRAPE_TOKEN: z.string().min(16).optional(),
    /** Largest JSON body of a management route (413 above). */
    MAX_JSON_BODY_BYTES: count(MiB),
    /** Largest body of a prediction route. */
    MAX_PREDICT_BODY_BYTES: count(8 * MiB),

    /** The platform administrator's bearer credential (a secret). */
    ADMIN_API_KEY: z.string().min(32, { error: 'ADMIN_API_KEY must be at least 32 characters' }).optional(),
    /** Signs access tokens (HS256); unset, user accounts are off and only ADMIN_API_KEY works. */
    JWT_SECRET: JwtSecret.optional(),
    /** Secrets that signed tokens still in circulation: they verify but never sign (rotation). */
    JWT_PREVIOUS_SECRETS: list(JwtSecret),
    /** Signs access tokens with EdDSA instead of JWT_SECRET: an Ed25519 private key as a JWK. */
    JWT_PRIVATE_KEY: jsonOf(
      Ed25519Public.extend({ d: z.string().min(43) }).loose(),
      `JWT_PRIVATE_KEY (${ED25519_HINT})`,
    ).optional(),
    /** Public JWKs (a JSON array) of former key pairs whose tokens still verify (rotation). */
    JWT_PREVIOUS_PUBLIC_KEYS: jsonOf(
      z.array(Ed25519Public.loose()),
      'JWT_PREVIOUS_PUBLIC_KEYS (a JSON array of public JWKs)',
    )
      .optional()
      .transform((keys) => keys ?? []),
    JWT_ISSUER: z.string().min(1).default('modelflare'),
    JWT_AUDIENCE: z.string().min(1).default('modelflare-api'),
    ACCESS_TOKEN_TTL_SECONDS: count(900, 3600),
    REFRESH_TOKEN_TTL_SECONDS: count(30 * 86400),

    /**
     * Encrypts webhook, trigger and per-job webhook signing secrets at rest (AES-256-GCM).
     * Unset: creating them answers 503 secrets_key_missing; secrets stored before encryption
     * existed still work.
     */
    SECRETS_ENCRYPTION_KEY: SecretKey.optional(),
    /** Former encryption keys, comma-separated: they decrypt, never encrypt (rotation). */
    SECRETS_PREVIOUS_KEYS: list(SecretKey),

    /** Origins whose browser pages may call the API; `*` allows any. Empty: no CORS at all. */
    CORS_ORIGINS: list(z.union([z.literal('*'), Origin])),

    /** Requests per window per API key or user; workspaces can override each of the three. */
    RATE_LIMIT_PREDICTION: count(600),
    RATE_LIMIT_MANAGEMENT: count(120),
    RATE_LIMIT_WINDOW_SECONDS: count(60, 86400),
    /**
     * Per client address and window: register, login and refresh attempts, failed credentials,
     * and refused inbound hooks (each counted apart).
     */
    RATE_LIMIT_AUTH: count(30),
    /** A workspace's callers together get at most this many callers' budgets. */
    RATE_LIMIT_WORKSPACE_CALLERS: count(4, 1000),
    /** Live (not revoked, not expired) API keys a workspace may hold. */
    MAX_API_KEYS_PER_WORKSPACE: count(100, 100_000),
  })
  .refine((c) => c.SESSION_CACHE_BYTES >= c.MAX_MODEL_BYTES, {
    error: 'SESSION_CACHE_BYTES must be at least MAX_MODEL_BYTES so the largest model fits',
  })
  .refine((c) => c.MAX_RUNNER_MODEL_BYTES >= c.MAX_MODEL_BYTES, {
    error: 'MAX_RUNNER_MODEL_BYTES must be at least MAX_MODEL_BYTES: the runner takes what the isolate cannot',
  })
  .refine(
    (c) => c.CACHE_STALE_LIMIT_SECONDS >= Math.max(c.REGISTRY_CACHE_TTL_SECONDS, c.CREDENTIAL_CACHE_TTL_SECONDS),
    {
      error:
        'CACHE_STALE_LIMIT_SECONDS must be at least the cache refresh intervals (REGISTRY_/CREDENTIAL_CACHE_TTL_SECONDS)',
    },
  )
  .refine((c) => !(c.JWT_SECRET && c.JWT_PRIVATE_KEY), {
    error:
      'set JWT_SECRET or JWT_PRIVATE_KEY, not both: tokens are signed with one key (move a former secret to JWT_PREVIOUS_SECRETS)',
  });

export type Config = z.infer<typeof ConfigSchema>;

/** The variables and secrets the worker reads, as the runtime hands them over: text, or absent. */
export type ConfigVars = { [K in keyof z.input<typeof ConfigSchema>]?: string };

/** ORT_HEAP_MAX_BYTES, or room for a full session cache plus one of the largest models loading. */
export function ortHeapLimit(config: Config): number {
  return config.ORT_HEAP_MAX_BYTES ?? config.SESSION_CACHE_BYTES + 2 * config.MAX_MODEL_BYTES + 16 * MiB;
}

const parsed = new WeakMap<object, Config>();

/** Reads and validates the environment once per isolate; a bad value fails loudly at start. */
export function configFrom(env: ConfigVars): Config {
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
