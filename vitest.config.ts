import { readdirSync, readFileSync } from 'node:fs';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { model, node, valueInfo } from './scripts/onnx/build.mjs';
import { buildLargeModel } from './scripts/onnx/large-model.mjs';
import { buildTestModels } from './scripts/onnx/test-models.mjs';
import { DATATYPES } from './workers/core/tensor';

/**
 * The shared ONNX fixtures and the models generated for tests, base64, for tests inside workerd
 * (which has no file system).
 */
function loadFixtures(dir = '../shared/fixtures/onnx'): Record<string, string> {
  const files: Record<string, string> = {};
  for (const sub of ['models', 'cases']) {
    for (const file of readdirSync(`${dir}/${sub}`)) {
      files[`${sub}/${file}`] = readFileSync(`${dir}/${sub}/${file}`).toString('base64');
    }
  }
  files['index.json'] = readFileSync(`${dir}/index.json`).toString('base64');
  for (const [name, bytes] of Object.entries(buildTestModels(DATATYPES))) {
    files[`generated/${name}.onnx`] = Buffer.from(bytes).toString('base64');
  }
  // Two parts of a runner upload's multipart stream to R2 (10 MiB each).
  files['generated/large-12mib.onnx'] = Buffer.from(buildLargeModel(12 * 1024 * 1024, 256).bytes).toString('base64');
  // A well-formed file with an operator no runtime has.
  const unknownOp = model({
    nodes: [node('NoSuchOperator', ['x'], ['y'])],
    inputs: [valueInfo('x', 'FP32', [1])],
    outputs: [valueInfo('y', 'FP32', [1])],
  });
  files['generated/unknown_op.onnx'] = Buffer.from(unknownOp).toString('base64');
  return files;
}

const migrations = await readD1Migrations('migrations');

export default defineConfig({
  test: {
    // Request logs are printed only for failing tests.
    silent: 'passed-only',
    coverage: {
      provider: 'istanbul',
      include: ['workers/**/*.ts'],
      exclude: ['workers/**/*.d.ts'],
      reporter: ['text-summary', 'text', 'html'],
      thresholds: { lines: 85 },
    },
    projects: [
      {
        // The worker's own suites, inside workerd against real local D1, R2, KV and Queues.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                ADMIN_API_KEY: 'test-admin-key-0123456789abcdef-0123',
                JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
                JWT_PREVIOUS_SECRETS: 'test-jwt-previous-secret-0123456789abcdef',
                // 32 bytes, base64: webhook and trigger secrets are stored encrypted with it.
                SECRETS_ENCRYPTION_KEY: 'dGVzdC1zZWNyZXRzLWVuY3J5cHRpb24ta2V5LTMyYiE=',
                ENVIRONMENT: 'test',
                MAX_MODEL_BYTES: String(256 * 1024),
                MAX_UPLOAD_BYTES: String(1024 * 1024),
                MAX_JSON_BODY_BYTES: String(64 * 1024),
                CORS_ORIGINS: 'https://app.example.com, https://admin.example.com',
                // Generous, so that suites are not throttled; rate-limit tests set tight limits per workspace.
                RATE_LIMIT_MANAGEMENT: '10000',
                RATE_LIMIT_PREDICTION: '10000',
                RATE_LIMIT_AUTH: '10000',
                // Metrics are written as soon as they are counted, so tests read exact numbers at once.
                METRICS_FLUSH_SECONDS: '0',
                METRICS_SCRAPE_TOKEN: 'test-scrape-token-0123456789',
              },
            },
          }),
        ],
        test: {
          name: 'workers',
          // Two cores: the two projects run one after the other rather than fight for them.
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/node/**'],
          setupFiles: ['./test/apply-migrations.ts'],
          provide: { fixtures: loadFixtures() },
        },
      },
      {
        // The CLI, the examples and the browser against a real `wrangler dev`, from Node.
        test: {
          name: 'node',
          sequence: { groupOrder: 1 },
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['./test/node/global-setup.ts'],
          // These wait on a real server: jobs on its queues, a browser rendering a page.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
