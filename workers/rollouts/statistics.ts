/*
 * The two-proportion z-test a scorecard compares each route with the first by (error rate,
 * accuracy): pooled proportion, normal approximation, two-sided p-value.
 */

export interface ProportionTest {
  /** This route's proportion minus the first route's. */
  difference: number;
  z: number | null;
  pValue: number | null;
}

/** erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}

/** P(Z <= z) for a standard normal Z. */
export const normalCdf = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));

/**
 * Whether x2/n2 differs from x1/n1 by more than chance: null z and p when either side has no
 * observations, or neither side varies (both all 0 or all 1).
 */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number): ProportionTest | null {
  if (n1 === 0 || n2 === 0) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { difference: p2 - p1, z: null, pValue: null };
  const z = (p2 - p1) / se;
  return { difference: p2 - p1, z, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) };
}
