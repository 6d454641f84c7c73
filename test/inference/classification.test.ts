import { beforeAll, describe, expect, it } from 'vitest';
import { DATATYPES } from '../../workers/core/tensor';
import { classify, formatFixed6 } from '../../workers/inference/classification';
import { call, callJson, fixture } from '../helpers';
import { readAnswer, tritonRequest } from './triton-wire';

/*
 * The classification extension as Triton answers it (src/classification.cc): the top K of each
 * batch row as BYTES "value:index[:label]", values written by std::to_string (printf's %f for
 * floats). The expected strings below were written by Python's '%f' % x, which rounds as glibc.
 */

describe('formatFixed6 (printf %f)', () => {
  const cases: [number, string][] = [
    [0.5, '0.500000'],
    [0.0078125, '0.007812'], // a tie: to even
    [-0, '-0.000000'],
    [1e21, '1000000000000000000000.000000'],
    [Math.fround(3.3), '3.300000'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [Math.fround(0.1), '0.100000'],
    [123456789.125, '123456789.125000'],
    [5e-324, '0.000000'],
    [-1e-9, '-0.000000'],
    [0.9999995, '1.000000'],
    [Math.fround(0.99996), '0.999960'],
    [1.5e-6, '0.000002'],
    [5e-7, '0.000000'],
  ];
  for (const [x, text] of cases) {
    it(`${x} -> ${text}`, () => expect(formatFixed6(x)).toBe(text));
  }
});

describe('classify', () => {
  const spec = (shape: number[]) => ({ name: 'p', datatype: 'FP32' as const, shape });
  it('ranks each batch row, highest first, equal values by index, NaN last', () => {
    const tensor = {
      datatype: 'FP32' as const,
      shape: [2, 4],
      data: Float32Array.of(1.1, 3.3, 0.5, 2.4, NaN, 1, 1, 0),
    };
    expect(classify('p', tensor, spec([-1, 4]), 3, null)).toEqual({
      datatype: 'BYTES',
      shape: [2, 3],
      data: ['3.300000:1', '2.400000:3', '1.100000:0', '1.000000:1', '1.000000:2', '0.000000:3'],
    });
  });
  it('takes the whole tensor as one row without a batch dimension, and clips K to its length', () => {
    const tensor = { datatype: 'INT64' as const, shape: [3], data: BigInt64Array.of(-5n, 9007199254740993n, 7n) };
    expect(classify('p', tensor, spec([3]), 10, ['a', 'b', 'c'])).toEqual({
      datatype: 'BYTES',
      shape: [3],
      data: ['9007199254740993:1:b', '7:2:c', '-5:0:a'],
    });
  });
  it('names classes only when the labels fit the row', () => {
    const tensor = { datatype: 'UINT8' as const, shape: [1, 2], data: Uint8Array.of(3, 200) };
    expect(classify('p', tensor, spec([-1, 2]), 1, ['x', 'y', 'z']).data).toEqual(['200:1']);
  });
});

describe('classification extension', () => {
  let iris: string;
  let path: string;
  beforeAll(async () => {
    iris = `iris-cls-${crypto.randomUUID().slice(0, 8)}`;
    await callJson('POST', '/v1/models', 201, {
      body: { name: iris, task: 'classification', class_labels: ['setosa', 'versicolor', 'virginica'] },
    });
    const res = await call('POST', `/v1/models/${iris}/versions`, {
      body: fixture('generated/iris.onnx'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
    path = `/v2/models/${iris}/infer`;
  });

  const rows = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3];
  const features = { name: 'features', datatype: 'FP32', shape: [2, 4], data: rows };

  it('answers the top K classes per row with their labels, as JSON or binary, computed from the probabilities', async () => {
    const plain = await callJson('POST', path, 200, {
      body: { inputs: [features], outputs: [{ name: 'probabilities' }] },
    });
    const p = plain.outputs[0].data as number[];
    const expected = [0, 1].flatMap((row) =>
      [0, 1, 2]
        .map((i) => ({ i, v: p[row * 3 + i]! }))
        .sort((a, b) => b.v - a.v)
        .slice(0, 2)
        .map(({ i, v }) => `${v.toFixed(6)}:${i}:${['setosa', 'versicolor', 'virginica'][i]}`),
    );
    const json = await callJson('POST', path, 200, {
      body: { inputs: [features], outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] },
    });
    expect(json.outputs).toEqual([{ name: 'probabilities', datatype: 'BYTES', shape: [2, 2], data: expected }]);
    expect(expected[0]).toMatch(/:0:setosa$/);
    expect(expected[2]).toMatch(/:2:virginica$/);

    const { body, headers } = await tritonRequest({
      inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], values: rows }],
      outputs: [{ name: 'probabilities', classCount: 2 }, { name: 'label' }],
    });
    const res = await call('POST', path, { body, headers });
    expect(res.status).toBe(200);
    const read = await readAnswer(res);
    expect(read.outputs[0]).toEqual({
      name: 'probabilities',
      datatype: 'BYTES',
      shape: [2, 2],
      values: expected,
      binary: true,
    });
    expect(read.outputs[1]!.values).toEqual([0n, 2n]);
  });

  it('ranks an integer output as integers, without labels when it is not one value per class', async () => {
    const json = await callJson('POST', path, 200, {
      body: { inputs: [features], outputs: [{ name: 'label', parameters: { classification: 3 } }] },
    });
    expect(json.outputs[0]).toEqual({ name: 'label', datatype: 'BYTES', shape: [2, 1], data: ['0:0', '2:0'] });
  });

  it('answers a cached prediction as classes too', async () => {
    const request = {
      inputs: [{ ...features, data: [5.0, 3.4, 1.5, 0.2], shape: [1, 4] }],
      outputs: [{ name: 'probabilities' }],
    };
    const miss = await call('POST', path, { body: request });
    expect(miss.headers.get('x-cache')).toBe('MISS');
    const p = (await miss.json<any>()).outputs[0].data as number[];
    const hit = await call('POST', path, {
      body: { ...request, outputs: [{ name: 'probabilities', parameters: { classification: 1 } }] },
    });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect((await hit.json<any>()).outputs[0].data).toEqual([`${Math.max(...p).toFixed(6)}:0:setosa`]);
  });

  it('refuses classification of an output that holds no numbers', async () => {
    const ident = await callJson('POST', `/v1/models/${iris}-ident/versions`, 201, {
      body: fixture('generated/identity.onnx'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(ident.version).toBe(1);
    const inputs = DATATYPES.map((t) => ({ name: `in_${t.toLowerCase()}`, datatype: t, shape: [0], data: [] }));
    for (const output of ['out_bytes', 'out_bool']) {
      const refused = await call('POST', `/v2/models/${iris}-ident/infer`, {
        body: { inputs, outputs: [{ name: output, parameters: { classification: 1 } }] },
      });
      expect(refused.status).toBe(400);
      expect((await refused.json<any>()).error).toMatch(
        new RegExp(`output '${output}' is (BYTES|BOOL): classification ranks numbers, so it needs a numeric output`),
      );
    }
  });
});
