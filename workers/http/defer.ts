import type { Context } from 'hono';
import type { AppEnv } from './app-env';

/** Runs a task after the response is sent; a failure is logged, never surfaced to the caller. */
export function deferTo(c: Context<AppEnv>): (task: Promise<unknown>) => void {
  return (task) => {
    const guarded = task.catch((err: unknown) =>
      console.error(
        JSON.stringify({
          level: 'error',
          msg: 'background task failed',
          request_id: c.get('requestId'),
          error: err instanceof Error ? err.message : String(err),
        }),
      ),
    );
    try {
      c.executionCtx.waitUntil(guarded);
    } catch {
      // No execution context (the app called directly): the task still runs to completion.
    }
  };
}
