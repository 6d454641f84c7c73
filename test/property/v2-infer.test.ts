import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Datatype } from '../../workers/core/tensor';
import { call, fixture, infer, newModel } from '../helpers';
import { answer, check, expectNames, expectV2Refusal, oddString, pathSegment, type Answer } from './support';
import { DATATYPES, addFp32, elementArb, flat, identityElement, nearNumbers, nest } from './tensors';

/*
 * Property: any body sent to V2 infer gets either 200 with outputs that are right (checked
 * against models whose answer is known: identity returns its inputs, add sums them) or a 4xx
 * `{"error": "..."}` that names what is wrong. Never a 5xx, never a body that is not JSON.
 * Requests start valid and get at most one thing wrong, so they reach the deep checks.
 */

const TIMEOUT = 300_000;
const RUNS = { identity: 1000, add: 300, contentTypes: 150, bodies: 500, paths: 200 };

interface Input {
  name: string;
  datatype: unknown;
  shape: unknown;
  data: unknown;
  parameters?: unknown;
}
type Request = { inputs: Input[]; outputs?: unknown; id?: unknown; parameters?: unknown } & Record<string, unknown>;

const lower = (d: string) => d.toLowerCase();

/** A valid identity request: every datatype, n elements each, inputs in any order. */
const identityRequest = fc
  .integer({ min: 0, max: 3 })
  .chain((n) =>
    fc.tuple(
      ...DATATYPES.map((d) =>
        fc
          .array(elementArb(d), { minLength: n, maxLength: n })
          .map((data): Input => ({ name: `in_${lower(d)}`, datatype: d, shape: [n], data })),
      ),
    ),
  )
  .chain((inputs) => fc.shuffledSubarray(inputs, { minLength: inputs.length, maxLength: inputs.length }))
  .map((inputs): Request => ({ inputs }));

const addRequest = fc
  .tuple(...['x', 'y'].map(() => fc.array(elementArb('FP32'), { minLength: 60, maxLength: 60 })))
  .map(([x, y]): Request => ({
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [3, 4, 5], data: x },
      { name: 'y', datatype: 'FP32', shape: [3, 4, 5], data: y },
    ],
  }));

/** One thing wrong (or, for `none` and the harmless kinds, nothing). */
const mutation = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 3 },
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('rename' as const), at: fc.nat(), name: oddString() }),
  fc.record({
    kind: fc.constant('datatype' as const),
    at: fc.nat(),
    datatype: fc.oneof(fc.constantFrom(...DATATYPES, 'fp32', 'FLOAT', 'STRING'), oddString(), fc.jsonValue()),
  }),
  fc.record({
    kind: fc.constant('shape' as const),
    at: fc.nat(),
    shape: fc.oneof(
      fc.array(fc.integer({ min: -3, max: 70 }), { maxLength: 4 }),
      fc.array(
        fc.oneof(fc.integer(), fc.constantFrom(-1, 0, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e308, 1.5, '3', null, NaN)),
        { maxLength: 40 },
      ),
      fc.jsonValue(),
    ),
  }),
  fc.record({
    kind: fc.constant('element' as const),
    at: fc.nat(),
    index: fc.nat(),
    value: fc.oneof(nearNumbers, fc.jsonValue(), oddString(8)),
  }),
  // The same elements under another shape: what only the per-dimension check can refuse.
  {
    arbitrary: fc.record({
      kind: fc.constant('reshape' as const),
      at: fc.nat(),
      both: fc.boolean(),
      sameRank: fc.oneof({ arbitrary: fc.constant(true), weight: 2 }, { arbitrary: fc.constant(false), weight: 1 }),
      pick: fc.nat(),
    }),
    weight: 2,
  },
  fc.record({ kind: fc.constant('length' as const), at: fc.nat(), delta: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('nest' as const), at: fc.nat(), wrong: fc.boolean() }),
  fc.record({ kind: fc.constant('data-type' as const), at: fc.nat(), data: fc.jsonValue() }),
  fc.record({
    kind: fc.constant('parameters' as const),
    at: fc.option(fc.nat(), { nil: undefined }),
    value: fc.oneof(fc.dictionary(oddString(), fc.jsonValue()), fc.jsonValue()),
  }),
  fc.record({
    kind: fc.constant('outputs' as const),
    pick: fc.array(fc.nat(), { maxLength: 5 }),
    odd: fc.option(oddString(), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('id' as const), id: fc.oneof(oddString(300), fc.jsonValue()) }),
  fc.record({ kind: fc.constant('extra' as const), key: oddString(), value: fc.jsonValue() }),
  fc.record({ kind: fc.constant('field' as const), at: fc.nat(), field: fc.string(), value: fc.jsonValue() }),
  fc.record({ kind: fc.constant('body' as const), body: fc.jsonValue() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

interface Mutated {
  body: unknown;
  /** Substrings of which a refusal must name one. */
  names: string[];
  /** Nothing is wrong: anything but a 200 is. */
  valid?: boolean;
  /** The request is invalid whatever the runtime would make of it: a 200 is wrong. */
  invalid?: boolean;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Ordered factorisations of `count` into `rank` dimensions (each at least 1; 0 goes anywhere). */
function factorisations(count: number, rank: number): number[][] {
  if (rank === 0) return count === 1 ? [[]] : [];
  if (count === 0)
    return Array.from({ length: rank }, (_, zero) => Array.from({ length: rank }, (_, k) => (k === zero ? 0 : 2)));
  const out: number[][] = [];
  for (let d = 1; d <= count; d++) {
    if (count % d === 0) for (const rest of factorisations(count / d, rank - 1)) out.push([d, ...rest]);
  }
  return out;
}

function permutations(shape: readonly number[]): number[][] {
  if (shape.length <= 1) return [[...shape]];
  return shape.flatMap((d, i) => permutations([...shape.slice(0, i), ...shape.slice(i + 1)]).map((p) => [d, ...p]));
}

/**
 * Shapes other than `shape` that hold exactly as many elements: its dimensions permuted or
 * factored anew at the same rank, or at one rank more or less.
 */
function sameCountShapes(shape: readonly number[], sameRank: boolean): number[][] {
  const count = product(shape);
  const rank = shape.length;
  const candidates = sameRank
    ? [...permutations(shape), ...factorisations(count, rank)]
    : [...factorisations(count, rank + 1), ...(rank > 1 ? factorisations(count, rank - 1) : [])];
  const seen = new Set([JSON.stringify(shape)]);
  return candidates.filter((c) => !seen.has(JSON.stringify(c)) && seen.add(JSON.stringify(c)));
}

function apply(request: Request, m: Mutation, outputs: string[]): Mutated {
  const req: Request = structuredClone(request);
  const pick = (at: number) => at % req.inputs.length;
  switch (m.kind) {
    case 'none':
      return { body: req, names: [], valid: true };
    case 'drop': {
      const [gone] = req.inputs.splice(pick(m.at), 1);
      return { body: req, names: [gone!.name] };
    }
    case 'duplicate': {
      const twin = req.inputs[pick(m.at)]!;
      req.inputs.push(structuredClone(twin));
      return { body: req, names: [twin.name] };
    }
    case 'rename': {
      const input = req.inputs[pick(m.at)]!;
      const old = input.name;
      input.name = m.name;
      return { body: req, names: [old, m.name, `inputs[${pick(m.at)}].name`].filter((s) => s !== '') };
    }
    case 'datatype': {
      const input = req.inputs[pick(m.at)]!;
      input.datatype = m.datatype;
      return { body: req, names: [input.name, `inputs[${pick(m.at)}].datatype`] };
    }
    case 'shape': {
      const input = req.inputs[pick(m.at)]!;
      input.shape = m.shape;
      return { body: req, names: [input.name, `inputs[${pick(m.at)}].shape`] };
    }
    case 'element': {
      const input = req.inputs[pick(m.at)]!;
      const data = input.data as unknown[];
      if (data.length > 0) data[m.index % data.length] = m.value;
      return { body: req, names: [input.name] };
    }
    case 'reshape': {
      const input = req.inputs[pick(m.at)]!;
      const shape = input.shape as number[];
      let shapes = sameCountShapes(shape, m.sameRank);
      if (shapes.length === 0) shapes = sameCountShapes(shape, !m.sameRank);
      const reshaped = shapes[m.pick % shapes.length]!;
      // Both inputs alike when they had one shape, so the runtime sees a consistent request.
      const targets = m.both ? req.inputs.filter((i) => JSON.stringify(i.shape) === JSON.stringify(shape)) : [input];
      for (const t of targets) t.shape = [...reshaped];
      // Quoted as the platform quotes input names: a bare 'x' is found in any message ("axis").
      return { body: req, names: targets.map((t) => `'${t.name}'`), invalid: true };
    }
    case 'length': {
      const input = req.inputs[pick(m.at)]!;
      const data = input.data as unknown[];
      if (m.delta < 0) data.splice(0, -m.delta);
      else for (let i = 0; i < m.delta; i++) data.push(data[0] ?? 0);
      return { body: req, names: [input.name] };
    }
    case 'nest': {
      const input = req.inputs[pick(m.at)]!;
      const shape = input.shape as number[];
      const data = input.data as unknown[];
      input.data = m.wrong ? [data] : nest(data, shape);
      return { body: req, names: [input.name] };
    }
    case 'data-type': {
      const input = req.inputs[pick(m.at)]!;
      input.data = m.data;
      return { body: req, names: [input.name, `inputs[${pick(m.at)}].data`] };
    }
    case 'parameters': {
      if (m.at === undefined) req.parameters = m.value;
      else req.inputs[pick(m.at)]!.parameters = m.value;
      return { body: req, names: ['parameters'] };
    }
    case 'outputs': {
      const names = m.pick.map((i) => outputs[i % outputs.length]!);
      if (m.odd !== undefined) names.push(m.odd);
      req.outputs = names.map((name) => ({ name }));
      return { body: req, names: ['output', ...names.filter((n) => n !== '')] };
    }
    case 'id':
      req.id = m.id;
      return { body: req, names: ['id'] };
    case 'extra':
      req[m.key] = m.value;
      return { body: req, names: [m.key] };
    case 'field': {
      const input = req.inputs[pick(m.at)] as unknown as Record<string, unknown>;
      input[m.field] = m.value;
      return { body: req, names: [String(input.name), m.field, `inputs[${pick(m.at)}]`] };
    }
    case 'body':
      return { body: m.body, names: ['request body', 'inputs', 'JSON'] };
  }
}

/** The outputs an answer must hold, in order: those asked for, else all of the model's. */
function outputsAsked(body: Request, all: string[]): string[] {
  const asked = Array.isArray(body.outputs) ? body.outputs.map((o: { name: string }) => o.name) : [];
  return asked.length > 0 ? asked : all;
}

/**
 * Checks a 200 against the oracle: every asked output present, in order, with the input's shape
 * and the values the model must compute from the request exactly as it was sent.
 */
function expectCorrect(
  a: Answer,
  body: Request,
  modelName: string,
  all: string[],
  expected: (output: string) => { datatype: string; shape: unknown; data: unknown[] },
) {
  expect(a.json.model_name).toBe(modelName);
  expect(a.json.model_version).toBe('1');
  if (body.id !== undefined) expect(a.json.id).toBe(body.id);
  const names = outputsAsked(body, all);
  expect(a.json.outputs.map((o: { name: string }) => o.name)).toEqual(names);
  for (const output of a.json.outputs) {
    const want = expected(output.name);
    expect(want.data, `${output.name}: the platform accepted values the contract refuses`).not.toContain(undefined);
    expect(output).toEqual({ name: output.name, ...want });
  }
}

async function send(path: string, body: unknown): Promise<Answer> {
  return answer(await infer(path, body));
}

describe('V2 infer, property-based', () => {
  let identity: string;
  let add: string;
  const identityOutputs = DATATYPES.map((d) => `out_${lower(d)}`);

  beforeAll(async () => {
    identity = await newModel(fixture('generated/identity.onnx'), 'prop-ident');
    add = await newModel(fixture('models/onnx-node.test_add.onnx'), 'prop-add');
  });

  function identityExpected(body: Request) {
    return (output: string) => {
      const datatype = output.replace(/^out_/, '').toUpperCase() as Datatype;
      const input = body.inputs.find((i) => i.name === `in_${lower(datatype)}`)!;
      return { datatype, shape: input.shape, data: flat(input.data).map((v) => identityElement(datatype, v)) };
    };
  }

  it(
    `identity model: valid requests with one thing wrong (${RUNS.identity} runs)`,
    async () => {
      await check(
        fc.asyncProperty(
          identityRequest,
          mutation,
          fc.constantFrom('', '/versions/1', '/versions/latest'),
          async (request, m, version) => {
            const { body, names, valid, invalid } = apply(request, m, identityOutputs);
            const a = await send(`/v2/models/${identity}${version}/infer`, body);
            if (valid) expect(a.status, a.text).toBe(200);
            if (invalid) expect(a.status, `${JSON.stringify(m)}: ${a.text}`).not.toBe(200);
            if (a.status === 200) {
              expectCorrect(a, body as Request, identity, identityOutputs, identityExpected(body as Request));
            } else {
              expectNames(expectV2Refusal(a), names);
            }
          },
        ),
        RUNS.identity,
      );
    },
    TIMEOUT,
  );

  it(
    `add model: sums are right or the request is refused (${RUNS.add} runs)`,
    async () => {
      await check(
        fc.asyncProperty(addRequest, mutation, async (request, m) => {
          const { body, names, valid, invalid } = apply(request, m, ['sum']);
          const a = await send(`/v2/models/${add}/infer`, body);
          if (valid) expect(a.status, a.text).toBe(200);
          if (invalid) expect(a.status, `${JSON.stringify(body)}: ${a.text}`).not.toBe(200);
          if (a.status === 200) {
            const b = body as Request;
            expectCorrect(a, b, add, ['sum'], () => {
              const x = flat(b.inputs.find((i) => i.name === 'x')!.data);
              const y = flat(b.inputs.find((i) => i.name === 'y')!.data);
              return { datatype: 'FP32', shape: [3, 4, 5], data: x.map((v, i) => addFp32(v, y[i])) };
            });
          } else {
            expectNames(expectV2Refusal(a), names);
          }
        }),
        RUNS.add,
      );
    },
    TIMEOUT,
  );

  it(
    `content types: a valid body answers right or 4xx whatever its type (${RUNS.contentTypes} runs)`,
    async () => {
      const contentType = fc.oneof(
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'APPLICATION/JSON',
          'application/json; charset=latin1',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          'application/problem+json',
          '',
        ),
        fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
      );
      await check(
        fc.asyncProperty(addRequest, contentType, async (request, type) => {
          const headers: Record<string, string> = type === '' ? {} : { 'content-type': type };
          const a = await answer(
            await call('POST', `/v2/models/${add}/infer`, { body: JSON.stringify(request), headers }),
          );
          if (a.status === 200) {
            const y = flat(request.inputs[1]!.data);
            expect(a.json.outputs[0].data).toEqual(flat(request.inputs[0]!.data).map((v, i) => addFp32(v, y[i])));
          } else {
            expectV2Refusal(a);
          }
        }),
        RUNS.contentTypes,
      );
    },
    TIMEOUT,
  );

  it(
    `arbitrary bodies never give a 5xx (${RUNS.bodies} runs)`,
    async () => {
      const body = fc.oneof(
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.anything().map((v) => JSON.stringify(v) ?? 'undefined'),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(
          '',
          '{',
          '{"inputs": [',
          '{"inputs": {}}',
          'null',
          '[]',
          '\ufeff{"inputs": []}',
          '{"inputs":[{}]}',
        ),
      );
      await check(
        fc.asyncProperty(body, fc.boolean(), async (payload, json) => {
          const a = await answer(
            await call('POST', `/v2/models/${identity}/infer`, {
              body: payload,
              headers: json ? { 'content-type': 'application/json' } : {},
            }),
          );
          expectV2Refusal(a);
        }),
        RUNS.bodies,
      );
    },
    TIMEOUT,
  );

  it(
    `model names and versions in the path: 4xx unless they name a servable version (${RUNS.paths} runs)`,
    async () => {
      await check(
        fc.asyncProperty(
          fc.oneof(fc.constant('MODEL'), oddString()),
          fc.option(fc.oneof(fc.constantFrom('1', '2', '0', 'latest', 'production', '01', '-1', '1.0'), oddString()), {
            nil: undefined,
          }),
          addRequest,
          async (model, version, request) => {
            const name = model === 'MODEL' ? add : model;
            const path = `/v2/models/${pathSegment(name)}${version === undefined ? '' : `/versions/${pathSegment(version)}`}/infer`;
            const res = await infer(path, request);
            const a = await answer(res);
            if (a.status === 200) {
              expect(name).toBe(add);
              // '.' and '..' are path steps that URL parsing resolves before the request is sent.
              expect(['1', 'latest', '01', '.', '..', undefined]).toContain(version);
            } else {
              expectV2Refusal(a);
            }
          },
        ),
        RUNS.paths,
      );
    },
    TIMEOUT,
  );
});
