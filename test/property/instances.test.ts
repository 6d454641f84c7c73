import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson, fixture, uniqueName } from '../helpers';
import { answer, check, expectEnvelope, expectNames, oddString } from './support';
import { identityElement, nearNumbers } from './tensors';

/*
 * Property: `instances` (POST /v1/models/{name}/predict) answers 200 with one right prediction
 * per instance exactly when every instance is valid in one of the documented forms, and
 * otherwise a 4xx envelope naming the instance. The oracle interprets each instance from the
 * documentation (an array in signature order, an object keyed by input name, an object keyed
 * by feature name) and computes what the model must answer.
 */

const TIMEOUT = 300_000;
const RUNS = { regressor: 500, multi: 300, classifier: 150, bodies: 300 };

const FP32 = (v: unknown) => identityElement('FP32', v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown) => (typeof v === 'string' ? Number(v) : (v as number));

/** Flat array of exactly `n` valid FP32 elements, as numbers; else undefined. */
function fp32Row(v: unknown, n: number): number[] | undefined {
  if (!Array.isArray(v) || v.length !== n || v.some((e) => FP32(e) === undefined)) return undefined;
  return v.map((e) => num(FP32(e)));
}

/**
 * Float results are compared with a tolerance: the model computes in float32, whose rounding
 * error grows with the magnitude of the terms (`scale`), not of the result.
 */
function close(got: unknown, want: number, scale = Math.abs(want)): boolean {
  if (!Number.isFinite(want)) return got === (Number.isNaN(want) ? 'NaN' : want > 0 ? 'Infinity' : '-Infinity');
  return typeof got === 'number' && Math.abs(got - want) <= 1e-6 * scale + 1e-5;
}

/** Moderate FP32 values (so float32 rounding stays within the tolerance), and the string forms. */
const value = fc.oneof(
  { arbitrary: fc.float({ min: -1e6, max: 1e6, noNaN: true }).map((v) => (v === 0 ? 0 : v)), weight: 8 },
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom('NaN', 'Infinity', '-Infinity'),
);

/** A way to break an instance (or leave it alone). */
const breakage = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 4 },
  fc.record({ kind: fc.constant('replace' as const), with: fc.oneof(fc.jsonValue(), nearNumbers) }),
  fc.record({ kind: fc.constant('element' as const), with: fc.oneof(nearNumbers, fc.jsonValue(), oddString(6)) }),
  fc.record({ kind: fc.constant('extra-key' as const), key: oddString(), with: fc.jsonValue() }),
  fc.record({ kind: fc.constant('drop-key' as const) }),
  fc.record({ kind: fc.constant('wrap' as const) }),
  fc.record({ kind: fc.constant('grow' as const), with: value }),
);
type Breakage = typeof breakage extends fc.Arbitrary<infer B> ? B : never;

function breakInstance(instance: unknown, b: Breakage): unknown {
  const copy = structuredClone(instance);
  switch (b.kind) {
    case 'none':
      return copy;
    case 'replace':
      return b.with;
    case 'element': {
      if (Array.isArray(copy)) {
        const inner = copy.find(Array.isArray) as unknown[] | undefined;
        if (inner && inner.length > 0) inner[0] = b.with;
        else copy[0] = b.with;
      } else if (isRecord(copy)) {
        const key = Object.keys(copy)[0]!;
        const v = copy[key];
        if (Array.isArray(v) && v.length > 0) v[0] = b.with;
        else copy[key] = b.with;
      }
      return copy;
    }
    case 'extra-key':
      if (isRecord(copy)) copy[b.key] = b.with;
      return copy;
    case 'drop-key':
      if (isRecord(copy)) delete copy[Object.keys(copy)[0]!];
      else if (Array.isArray(copy)) copy.pop();
      return copy;
    case 'wrap':
      return [copy];
    case 'grow':
      if (Array.isArray(copy)) copy.push(b.with);
      else if (isRecord(copy)) copy[`extra_${Object.keys(copy).length}`] = b.with;
      return copy;
  }
}

interface Case {
  instances: unknown[];
  breakages: Breakage[];
}

/** Instances built by `valid`, some broken; `n` from 1 to 5. */
const cases = (valid: fc.Arbitrary<unknown>) =>
  fc.array(fc.tuple(valid, breakage), { minLength: 1, maxLength: 5 }).map((pairs): Case => ({
    instances: pairs.map(([i, b]) => breakInstance(i, b)),
    breakages: pairs.map(([, b]) => b),
  }));

const predict = async (model: string, body: unknown) =>
  answer(await call('POST', `/v1/models/${model}/predict`, { body: body as object }));

/**
 * Runs the property for one model: `interpret` says what an instance means (undefined when it
 * is invalid) and `expectPrediction` checks one prediction against that meaning.
 */
function instancesProperty<T>(
  model: () => string,
  valid: fc.Arbitrary<unknown>,
  interpret: (instance: unknown) => T | undefined,
  expectPrediction: (prediction: unknown, meaning: T) => void,
) {
  return fc.asyncProperty(cases(valid), async ({ instances }) => {
    const a = await predict(model(), { instances });
    const meanings = instances.map(interpret);
    const invalid = meanings.findIndex((m) => m === undefined);
    if (invalid === -1) {
      expect(a.status, a.text).toBe(200);
      expect(a.json).toMatchObject({ model: model(), model_version: 1 });
      expect(a.json.predictions).toHaveLength(instances.length);
      a.json.predictions.forEach((p: unknown, i: number) => expectPrediction(p, meanings[i]!));
    } else {
      expect(a.status, a.text).toBe(400);
      // The first refusal the mapper meets may be any invalid instance's, or an input's as a whole.
      const bad = meanings.flatMap((m, i) => (m === undefined ? [`instance ${i}`] : []));
      expectNames(expectEnvelope(a), [...bad, "input '"]);
    }
  });
}

describe('instances API, property-based', () => {
  let regressor: string;
  let multi: string;
  let iris: string;
  const features = ['f_one', 'f_two'];
  const labels = ['setosa', 'versicolor', 'virginica'];
  const irisFeatures = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

  /** Valid instances of the regressor in each documented form, and what one means (undefined: invalid). */
  const regressorInstance = fc.oneof(
    fc.tuple(value, value),
    fc.tuple(value, value).map((x) => ({ x })),
    fc.tuple(value, value).map(([a, b]) => ({ [features[0]!]: a, [features[1]!]: b })),
    fc.tuple(value, value).map(([a, b]) => ({ [features[1]!]: b, [features[0]!]: a })),
  );
  const regressorMeaning = (v: unknown): number[] | undefined => {
    if (!isRecord(v)) return fp32Row(v, 2);
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'x') return fp32Row(v.x, 2);
    if (keys.length !== 2 || !features.every((f) => keys.includes(f))) return undefined;
    return fp32Row(
      features.map((f) => v[f]),
      2,
    );
  };

  beforeAll(async () => {
    regressor = uniqueName('prop-reg');
    multi = uniqueName('prop-multi');
    iris = uniqueName('prop-iris');
    await callJson('POST', '/v1/models', 201, { body: { name: regressor, feature_names: features } });
    await callJson('POST', '/v1/models', 201, {
      body: { name: iris, task: 'classification', feature_names: irisFeatures, class_labels: labels },
    });
    for (const [name, file] of [
      [regressor, 'regressor'],
      [multi, 'multi'],
      [iris, 'iris'],
    ]) {
      await callJson('POST', `/v1/models/${name}/versions`, 201, {
        body: fixture(`generated/${file}.onnx`),
        headers: { 'content-type': 'application/octet-stream' },
      });
    }
  });

  it(
    `regressor (y = 2·x1 − x2 + 0.5): arrays, {x: …} and feature records (${RUNS.regressor} runs)`,
    async () => {
      await check(
        instancesProperty(
          () => regressor,
          regressorInstance,
          regressorMeaning,
          (p, [x1, x2]) => {
            const want = 2 * x1! - x2! + 0.5;
            expect(
              close(p, want, 2 * Math.abs(x1!) + Math.abs(x2!)),
              `prediction ${JSON.stringify(p)}, expected ${want}`,
            ).toBe(true);
          },
        ),
        RUNS.regressor,
      );
    },
    TIMEOUT,
  );

  it(
    `two inputs (a: FP32[3], b: INT64): arrays in signature order and records by input name (${RUNS.multi} runs)`,
    async () => {
      const b = fc.oneof(
        fc.integer({ min: -1000, max: 1000 }),
        fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((v) => v.toString()),
      );
      const a = fc.tuple(value, value, value);
      const valid = fc.oneof(
        fc.tuple(a, b),
        fc.tuple(a, b).map(([a, b]) => ({ a, b })),
        fc.tuple(a, b).map(([a, b]) => ({ b, a })),
      );
      type Meaning = { a: number[]; b: bigint };
      const interpret = (v: unknown): Meaning | undefined => {
        let av: unknown;
        let bv: unknown;
        if (Array.isArray(v)) {
          if (v.length !== 2) return undefined;
          [av, bv] = v;
        } else if (isRecord(v)) {
          const keys = Object.keys(v);
          if (keys.length !== 2 || !('a' in v) || !('b' in v)) return undefined;
          [av, bv] = [v.a, v.b];
        } else return undefined;
        const row = fp32Row(av, 3);
        const big = identityElement('INT64', bv);
        if (!row || big === undefined) return undefined;
        return { a: row, b: BigInt(big as number | string) };
      };
      const bigJson = (v: bigint) =>
        v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
      await check(
        instancesProperty(
          () => multi,
          valid,
          interpret,
          (p, m) => {
            const pred = p as { sum: unknown; scaled: unknown[]; b_neg: unknown };
            expect(Object.keys(pred).sort()).toEqual(['b_neg', 'scaled', 'sum']);
            // Two's complement: the negation of INT64's minimum is itself.
            expect(pred.b_neg).toEqual(bigJson(BigInt.asIntN(64, -m.b)));
            const sum = m.a.reduce((s, x) => s + x, 0);
            expect(
              close(
                pred.sum,
                sum,
                m.a.reduce((s, x) => s + Math.abs(x), 0),
              ),
              `sum ${JSON.stringify(pred.sum)}, expected ${sum}`,
            ).toBe(true);
            pred.scaled.forEach((s, i) => expect(close(s, Math.fround(2 * m.a[i]!))).toBe(true));
          },
        ),
        RUNS.multi,
      );
    },
    TIMEOUT,
  );

  it(
    `classifier: records by feature name answer a label consistent with the probabilities (${RUNS.classifier} runs)`,
    async () => {
      const measure = fc.float({ min: 0, max: 10, noNaN: true });
      const valid = fc.oneof(
        fc
          .tuple(measure, measure, measure, measure)
          .map((v) => Object.fromEntries(irisFeatures.map((f, i) => [f, v[i]]))),
        fc.tuple(measure, measure, measure, measure),
      );
      const interpret = (v: unknown): number[] | undefined => {
        if (!isRecord(v)) return fp32Row(v, 4);
        const keys = Object.keys(v);
        if (keys.length === 1 && keys[0] === 'features') return fp32Row(v.features, 4);
        if (keys.length !== 4 || !irisFeatures.every((f) => keys.includes(f))) return undefined;
        return fp32Row(
          irisFeatures.map((f) => v[f]),
          4,
        );
      };
      await check(
        instancesProperty(
          () => iris,
          valid,
          interpret,
          (p) => {
            const pred = p as { label: string; probabilities: Record<string, unknown> };
            expect(Object.keys(pred.probabilities)).toEqual(labels);
            const probs = labels.map((l) => pred.probabilities[l]);
            if (probs.every((x) => typeof x === 'number')) {
              const ps = probs as number[];
              expect(Math.abs(ps.reduce((s, x) => s + x, 0) - 1)).toBeLessThan(1e-4);
              expect(ps[labels.indexOf(pred.label)]).toBe(Math.max(...ps));
            } else {
              expect(labels).toContain(pred.label);
            }
          },
        ),
        RUNS.classifier,
      );
    },
    TIMEOUT,
  );

  it(
    `arbitrary bodies: 200 exactly for valid instances, else a 4xx envelope (${RUNS.bodies} runs)`,
    async () => {
      const body = fc.oneof(
        fc.jsonValue(),
        fc.record({ instances: fc.jsonValue() }),
        fc.record({ instances: fc.array(fc.jsonValue(), { maxLength: 4 }), parameters: fc.jsonValue() }),
        fc.record({ instances: fc.constant([]) }),
        // Valid bodies too, so "200 for valid" is tested as often as "4xx otherwise".
        fc.record(
          {
            instances: fc.array(regressorInstance, { minLength: 1, maxLength: 4 }),
            parameters: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 2 }),
          },
          { requiredKeys: ['instances'] },
        ),
      );
      /** Valid as the documentation says: 1 to 10,000 valid instances, parameters an object if present. */
      const validBody = (b: unknown): b is { instances: unknown[] } =>
        isRecord(b) &&
        Array.isArray(b.instances) &&
        b.instances.length >= 1 &&
        b.instances.length <= 10_000 &&
        (b.parameters === undefined || isRecord(b.parameters)) &&
        b.instances.every((i) => regressorMeaning(i) !== undefined);
      await check(
        fc.asyncProperty(body, fc.constantFrom('', '/versions/1', '/versions/latest', '/versions/9'), async (b, v) => {
          const a = await answer(await call('POST', `/v1/models/${regressor}${v}/predict`, { body: b as object }));
          const valid = v !== '/versions/9' && validBody(b);
          expect(a.status === 200, `${valid ? 'valid' : 'invalid'} body answered ${a.status}: ${a.text}`).toBe(valid);
          if (valid) {
            expect(a.json.predictions).toHaveLength(b.instances.length);
            a.json.predictions.forEach((p: unknown, i: number) => {
              const [x1, x2] = regressorMeaning(b.instances[i])!;
              expect(close(p, 2 * x1! - x2! + 0.5, 2 * Math.abs(x1!) + Math.abs(x2!)), JSON.stringify(p)).toBe(true);
            });
          } else expectEnvelope(a);
        }),
        RUNS.bodies,
      );
    },
    TIMEOUT,
  );
});
