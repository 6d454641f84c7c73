import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local server global-setup.ts started for the Node project. */
    server: { url: string; adminKey: string; logFile: string };
  }
}
