import type { D1Migration } from '@cloudflare/vitest-plugin';
import type { Env as WorkerEnv } from '../workers/platform/env';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Fixture files from ../shared/fixtures/onnx, base64, keyed by their relative path. */
    fixtures: Record<string, string>;
  }
}
