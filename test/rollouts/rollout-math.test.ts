import { describe, expect, it } from 'vitest';
import { hash32, routeAtRandom, routeForKey } from '../../workers/inference/routing';
import type { ServedSplit, ServedVersion } from '../../workers/inference/served-versions';
import { compareOutputs } from '../../workers/inference/shadow';
import { breaches, judged } from '../../workers/rollouts/guard';
import type { RouteCard, Scorecard } from '../../workers/rollouts/scorecard';
import { normalCdf, twoProportionTest } from '../../workers/rollouts/statistics';
import { nextStep, weightsAtStep } from '../../workers/rollouts/steps';
import { seeded } from '../helpers';
import { binomialBounds } from './support';

/*
 * The arithmetic under rollouts, without I/O: rendezvous assignment and how keys move when
 * weights change, steps, the two-proportion test, the guard's limits, shadow comparisons.
 */

const served = (version: number, over: Partial<ServedVersion> = {}) =>
  ({ version, modelName: 'iris', task: 'other', classLabels: null, ...over }) as ServedVersion;

function split(weights: number[]): ServedSplit {
  const routes = weights.map((weight, index) => ({ index, served: served(index + 1), weight }));
  return { alias: 'production', watched: false, routes, totalWeight: weights.reduce((a, b) => a + b, 0) };
}

const keys = Array.from({ length: 20_000 }, (_, i) => `key-${i}`);
const assign = (weights: number[]) => {
  const s = split(weights);
  return keys.map((k) => routeForKey(s, k).index);
};

describe('assignment by routing key', () => {
  it('is a fixed function of model, alias, key and version (changing it would move every key)', () => {
    expect(hash32('iris\0production\0user-42', Math.imul(3, 0x9e3779b1))).toBe(326388536);
    expect(hash32('a', 1)).toBe(3663734039);
  });

  it('gives each route its weight’s share of keys', () => {
    const weights = [55, 30, 15];
    const counts = [0, 0, 0];
    for (const route of assign(weights)) counts[route]! += 1;
    weights.forEach((w, i) => {
      const [low, high] = binomialBounds(keys.length, w / 100);
      expect(counts[i]).toBeGreaterThan(low);
      expect(counts[i]).toBeLessThan(high);
    });
  });

  it('moves a key from route a to route b only when b’s weight grew relative to a’s', () => {
    const random = seeded(42);
    for (let trial = 0; trial < 20; trial++) {
      const n = 2 + Math.floor(random() * 4);
      const before = Array.from({ length: n }, () => 1 + Math.floor(random() * 50));
      const after = before.map((w) => (random() < 0.5 ? w : 1 + Math.floor(random() * 50)));
      const a = assign(before);
      const b = assign(after);
      a.forEach((from, i) => {
        const to = b[i]!;
        if (from === to) return;
        expect(after[to]! / after[from]!, `trial ${trial}: ${before} -> ${after}`).toBeGreaterThan(
          before[to]! / before[from]!,
        );
      });
    }
  });

  it('moves keys only to the last route when a step ramps it', () => {
    for (const weights of [
      [90, 10],
      [80, 10, 10],
      [50, 20, 20, 10],
    ]) {
      let current = weights;
      let assigned = assign(current);
      for (const step of [25, 50, 75]) {
        const next = weightsAtStep(current, step);
        const moved = assign(next);
        const last = weights.length - 1;
        const changed = moved.filter((to, i) => to !== assigned[i]);
        expect(changed.length).toBeGreaterThan(0);
        expect(changed.every((to) => to === last)).toBe(true);
        current = next;
        assigned = moved;
      }
    }
  });

  it('draws at random by weight, and never a route that weighs nothing', () => {
    const s = split([70, 30]);
    s.routes.push({ index: 2, served: served(3), weight: 0 });
    const random = seeded(7);
    const counts = [0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[routeAtRandom(s, random).index]! += 1;
    expect(counts[2]).toBe(0);
    const [low, high] = binomialBounds(10_000, 0.7);
    expect(counts[0]).toBeGreaterThan(low);
    expect(counts[0]).toBeLessThan(high);
  });
});

describe('steps', () => {
  it('find the next step above the last route’s weight', () => {
    expect(nextStep([10, 25, 50, 100], 10)).toBe(25);
    expect(nextStep([10, 25, 50, 100], 5)).toBe(10);
    expect(nextStep([10, 25, 50, 100], 100)).toBeUndefined();
  });

  it('give the last route the step and share the rest in proportion', () => {
    expect(weightsAtStep([90, 10], 25)).toEqual([75, 25]);
    const three = weightsAtStep([80, 10, 10], 25);
    expect(three[2]).toBe(25);
    expect(three[0]! / three[1]!).toBeCloseTo(8, 10);
    expect(three.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 10);
    expect(weightsAtStep([0, 100], 100)).toEqual([0, 100]);
  });
});

describe('two-proportion test', () => {
  it('matches the textbook figures', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    const test = twoProportionTest(10, 100, 20, 100)!;
    expect(test.difference).toBeCloseTo(0.1, 10);
    expect(test.z).toBeCloseTo(1.9803, 3);
    expect(test.pValue).toBeCloseTo(0.0477, 3);
  });

  it('says nothing without observations or variation', () => {
    expect(twoProportionTest(0, 0, 1, 10)).toBeNull();
    expect(twoProportionTest(0, 50, 0, 50)).toEqual({ difference: 0, z: null, pValue: null });
  });
});

function card(routes: Partial<RouteCard>[]): Scorecard {
  return {
    model: 'm',
    alias: 'production',
    from: 0,
    to: 1,
    minRequests: 100,
    shadow: null,
    routes: routes.map((r, i) => ({
      route: i,
      version: i + 1,
      weight: 50,
      requests: 500,
      errors: { client: 0, server: 0 },
      errorRate: 0,
      latencyMs: { mean: 1, p50: 1, p95: 2, p99: 3 },
      cacheHitRatio: null,
      quality: null,
      drift: null,
      vsFirst: null,
      ...r,
    })),
  };
}

describe('the guard', () => {
  const guard = { min_requests: 200, max_error_rate: 0.02, max_p99_ms: 250, max_accuracy_drop: 0.05 };
  const quality = (accuracy: number, count = 100) => ({
    kind: 'classification' as const,
    count,
    correct: accuracy * count,
    accuracy,
    mae: null,
  });

  it('names every limit a later route breaks', () => {
    const found = breaches(
      card([
        { errorRate: 0.5, quality: quality(0.95) },
        { errorRate: 0.03, latencyMs: { mean: 100, p50: 100, p95: 200, p99: 300 }, quality: quality(0.85) },
      ]),
      guard,
    );
    expect(found).toEqual([
      { route: 1, version: 2, limit: 'max_error_rate', value: 0.03, threshold: 0.02 },
      { route: 1, version: 2, limit: 'max_p99_ms', value: 300, threshold: 250 },
      { route: 1, version: 2, limit: 'max_accuracy_drop', value: expect.closeTo(0.1, 10), threshold: 0.05 },
    ]);
  });

  it('judges neither the first route, nor a route short of min_requests or weighing nothing, nor thin feedback', () => {
    const c = card([
      { errorRate: 1, quality: quality(0.99, 10) },
      { errorRate: 1, requests: 199 },
      { errorRate: 1, weight: 0 },
      { errorRate: 0, quality: quality(0.1, 10) },
    ]);
    expect(breaches(c, guard)).toEqual([]);
    expect(judged(c, guard)).toBe(false);
    expect(judged(card([{}, { requests: 200 }]), guard)).toBe(true);
  });
});

describe('shadow comparisons', () => {
  const tensor = (name: string, data: unknown[], datatype = 'FP32') =>
    ({ name, datatype, shape: [data.length], data }) as never;

  it('compares numbers as numbers (strings for non-finite values too) and everything else by equality', () => {
    const result = compareOutputs(
      served(1),
      [tensor('y', [1, 'NaN', 4, 0]), tensor('s', ['a', 'b'], 'BYTES')],
      served(2),
      [tensor('y', [1.5, 'NaN', -4, 0]), tensor('s', ['a', 'c'], 'BYTES')],
      4,
    );
    expect(result.labels).toBeUndefined();
    expect(result.outputs).toEqual([
      { name: 'y', elements: 4, equal: 2, absSum: 8.5, absMax: 8, relSum: 0.5 / 1.5 + 2, relMax: 2 },
      { name: 's', elements: 2, equal: 1, absSum: 0, absMax: 0, relSum: 0, relMax: 0 },
    ]);
  });

  it('refuses a comparison with no output in common', () => {
    expect(() => compareOutputs(served(1), [tensor('y', [1])], served(2), [tensor('z', [1])], 1)).toThrow(
      'shadow version 2 gave none of the outputs the answer has',
    );
  });
});
