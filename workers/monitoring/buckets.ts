/*
 * The time buckets of a window's series. A step is one of a few round sizes, the smallest that
 * gives at most MAX_POINTS points, so an hour shows minutes and a day quarter-hours (a fresh
 * model's traffic is a line, not one dot). Buckets start at multiples of the step since the
 * epoch, so a chart refreshed a minute later keeps its points where they were.
 */

export const MAX_POINTS = 120;
const STEPS_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

export interface Buckets {
  /** The window's first minute (its totals start here). */
  fromMinute: number;
  /** The window's last minute (the current one). */
  toMinute: number;
  stepMinutes: number;
  /** The minute each bucket starts at, oldest first; the first may begin before fromMinute. */
  starts: number[];
}

export function stepMinutesFor(windowMinutes: number): number {
  return STEPS_MINUTES.find((s) => Math.ceil(windowMinutes / s) <= MAX_POINTS) ?? STEPS_MINUTES.at(-1)!;
}

export function bucketsFor(windowMinutes: number, now = Date.now()): Buckets {
  const toMinute = Math.floor(now / 60000);
  const fromMinute = toMinute - windowMinutes + 1;
  const stepMinutes = stepMinutesFor(windowMinutes);
  const starts: number[] = [];
  for (let s = Math.floor(fromMinute / stepMinutes) * stepMinutes; s <= toMinute; s += stepMinutes) starts.push(s);
  return { fromMinute, toMinute, stepMinutes, starts };
}

/** The start of the bucket a minute falls in. */
export const bucketOf = (minute: number, stepMinutes: number) => Math.floor(minute / stepMinutes) * stepMinutes;
