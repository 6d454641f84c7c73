/*
 * Steps ramp the last route: every `step_minutes` (while the guard holds) its weight becomes
 * the next step, and the other routes share what is left in proportion to their weights, so
 * a sticky key only ever moves to the last route (inference/routing.ts). At 100 the alias
 * becomes a plain alias on that route's version.
 */

/** The step after `weight`, or undefined when the ramp is done. */
export function nextStep(steps: readonly number[], weight: number): number | undefined {
  return steps.find((step) => step > weight + 1e-9);
}

/** The routes' weights once the last one is at `target` percent. */
export function weightsAtStep(weights: readonly number[], target: number): number[] {
  const last = weights[weights.length - 1]!;
  const others = 100 - last;
  const scale = others > 0 ? (100 - target) / others : 0;
  return weights.map((w, i) => (i === weights.length - 1 ? target : w * scale));
}
