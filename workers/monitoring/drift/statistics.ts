/*
 * Drift statistics on binned distributions (the baseline's bins). PSI compares the share of
 * rows per bin; KS is the largest gap between the two cumulative distributions, read at the bin
 * edges (numeric features only).
 */

/** Keeps empty bins from making PSI infinite. */
const EPSILON = 1e-4;

const shares = (counts: readonly number[]) => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => (total === 0 ? 0 : n / total));
};

export function psi(baseline: readonly number[], current: readonly number[]): number {
  const p = shares(baseline);
  const q = shares(current);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const expected = Math.max(p[i]!, EPSILON);
    const actual = Math.max(q[i] ?? 0, EPSILON);
    sum += (actual - expected) * Math.log(actual / expected);
  }
  return sum;
}

export function ks(baseline: readonly number[], current: readonly number[]): number {
  const p = shares(baseline);
  const q = shares(current);
  let cp = 0;
  let cq = 0;
  let max = 0;
  for (let i = 0; i < p.length; i++) {
    cp += p[i]!;
    cq += q[i] ?? 0;
    max = Math.max(max, Math.abs(cp - cq));
  }
  return max;
}
