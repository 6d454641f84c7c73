import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { readFileSync, readdirSync } from 'node:fs';

const fixtureDir = '../shared/fixtures/onnx';
const fixtures = Object.fromEntries(readdirSync(`${fixtureDir}/models`).map((f) => [`models/${f}`, readFileSync(`${fixtureDir}/models/${f}`).toString('base64')]));

export default defineConfig(async () => {
  const migrations = await readD1Migrations('migrations');
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_API_KEY: 'test-admin-key-0123456789abcdef',
            ENVIRONMENT: 'test',
            MAX_MODEL_BYTES: String(256 * 1024),
          },
        },
      }),
    ],
    test: {
      setupFiles: ['./test/apply-migrations.ts'],
      provide: { fixtures },
      coverage: {
        provider: 'istanbul',
        include: ['workers/**/*.ts'],
        exclude: ['workers/**/*.d.ts'],
        reporter: ['text-summary', 'text', 'html'],
        thresholds: { lines: 85 },
      },
    },
  };
});
