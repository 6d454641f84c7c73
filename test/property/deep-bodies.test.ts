import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../workers/core/json-depth';
import { rulesOf } from '../../workers/http/route';
import { createWorker } from '../../workers/index';
import { call, fixture, newModel } from '../helpers';
import { check } from './support';

/*
 * Every route that takes a JSON body answers a body nested 10,000 deep (about 14 KB) with a 400
 * naming the limit: never a 500 from a recursive walk that ran out of stack.
 */

const routes = [
  ...new Map(
    createWorker()
      .app.routes.filter((r) => r.method !== 'ALL' && rulesOf(r.method, r.path)?.body === 'json')
      .map((r) => [`${r.method} ${r.path}`, { method: r.method, path: r.path }]),
  ).values(),
];
/** Path parameters filled with well-formed values of their kind. */
const concrete = (path: string) =>
  path.replace(/:(\w+)/g, (_, name: string) =>
    name === 'user_id' ? 'usr_deep' : name === 'id' ? 'key_deep' : name === 'version' ? '1' : 'deep-model',
  );

/** A value `depth` containers deep, each an array or an object as `shape` draws them. */
function nested(depth: number, shape: boolean[]): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = shape[i % shape.length] ? [value] : { a: value };
  return value;
}

describe('deep bodies, property-based', () => {
  it('finds JSON routes to try', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
  });

  it(`every JSON route refuses a body nested 10,000 deep with 400 naming the limit (${routes.length} routes)`, async () => {
    await check(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.constantFrom('top', 'field'),
        async (route, shape, where) => {
          const deep = nested(10_000, shape);
          // 10,000 levels are 20 to 50 KB: within the tests' 64 KiB JSON body limit.
          const body = where === 'top' ? deep : { name: 'x', rows: [deep] };
          const res = await call(route.method, concrete(route.path), { body: body as object });
          const text = await res.text();
          expect(res.status, `${route.method} ${route.path}: ${text.slice(0, 200)}`).toBe(400);
          const error = JSON.parse(text).error;
          expect(error.code).toBe('nesting_too_deep');
          expect(error.message).toContain(`limit of ${MAX_JSON_DEPTH} levels`);
        },
      ),
      routes.length * 3,
    );
  });
});

describe('deep prediction bodies', () => {
  it('V2 infer and the instances API refuse deep data, records and parameters with a 400', async () => {
    const model = await newModel(fixture('generated/regressor.onnx'), 'deep');
    const deep = nested(10_000, [true]);
    const v2 = (body: object) => call('POST', `/v2/models/${model}/infer`, { body });
    const tensor = { name: 'x', datatype: 'FP32', shape: [1, 2] };
    for (const body of [
      { inputs: [{ ...tensor, data: deep }] },
      { inputs: [{ ...tensor, data: [1, 2], parameters: { deep } }] },
      { inputs: [{ ...tensor, data: [1, 2] }], parameters: { deep } },
    ]) {
      const res = await v2(body);
      expect(res.status).toBe(400);
      expect((await res.json<any>()).error).toMatch(
        /nested data does not match the shape|nested deeper than the shape|limit of 8 levels/,
      );
    }
    const records = await call('POST', `/v1/models/${model}/predict`, { body: { instances: [deep] } });
    expect(records.status).toBe(400);
  });
});
