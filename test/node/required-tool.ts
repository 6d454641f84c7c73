import type { TestContext } from 'vitest';

/*
 * Tests that need a tool outside npm (Chromium, python3). On a developer's machine without it
 * they skip, saying why; under CI=true they fail instead, so a green CI always ran them.
 */

/** `CI=true` (as CI services and .ci/run set it). */
export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/** Goes on when `present`; otherwise fails under CI, or skips the test saying why. */
export function requireTool(ctx: TestContext, present: boolean, reason: string): void {
  if (present) return;
  if (IN_CI) throw new Error(`${reason}. CI=true: a test that cannot run fails here rather than skip`);
  // Written past vitest's console capture, so the reason shows in any run's output.
  process.stderr.write(`test skipped: ${reason}\n`);
  ctx.skip(reason);
}
