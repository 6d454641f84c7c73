import { beforeAll, describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits } from '../../workers/inference/half';
import { fixture, infer, newModel } from '../helpers';

/*
 * The identity model has one input and one output per datatype: whatever goes in must come out
 * unchanged, including values JSON numbers cannot carry.
 */
const VALUES: Record<string, unknown[]> = {
  BOOL: [true, false, true],
  UINT8: [0, 7, 255],
  INT8: [-128, 0, 127],
  UINT16: [0, 1000, 65535],
  INT16: [-32768, -1, 32767],
  UINT32: [0, 123456, 4294967295],
  INT32: [-2147483648, 0, 2147483647],
  UINT64: [0, '9007199254740993', '18446744073709551615'],
  INT64: ['-9223372036854775808', 9007199254740991, '9223372036854775807'],
  FP16: [1.5, -2, 'Infinity'],
  FP32: [0.5, 'NaN', '-Infinity'],
  FP64: [1e300, 'Infinity', -0.1],
  BYTES: ['', 'héllo', 'a longer string, with punctuation: {"json": true}'],
};
const TYPES = Object.keys(VALUES);

function request(values: Record<string, unknown[]>) {
  return {
    inputs: TYPES.map((t) => ({
      name: `in_${t.toLowerCase()}`,
      datatype: t,
      shape: [values[t]!.length],
      data: values[t],
    })),
  };
}

describe('datatypes', () => {
  let name: string;
  beforeAll(async () => {
    name = await newModel(fixture('generated/identity.onnx'), 'ident');
  });

  it('round-trips every datatype, with big integers and non-finite floats as strings', async () => {
    const res = await infer(`/v2/models/${name}/infer`, request(VALUES));
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(200);
    for (const [i, t] of TYPES.entries()) {
      expect(body.outputs[i]).toEqual({ name: `out_${t.toLowerCase()}`, datatype: t, shape: [3], data: VALUES[t] });
    }
  });

  it('keeps full INT64 precision beyond 2^53 both ways', async () => {
    const big = ['9007199254740993', '-9007199254740993', '1234567890123456789'];
    const body = await (await infer(`/v2/models/${name}/infer`, request({ ...VALUES, INT64: big }))).json<any>();
    expect(body.outputs[TYPES.indexOf('INT64')].data).toEqual(big);
  });

  const refusals: [string, unknown, RegExp][] = [
    ['UINT8', 256, /element 0 is 256; UINT8 expects an integer from 0 to 255/],
    ['INT32', 1.5, /INT32 expects an integer/],
    ['INT64', 2 ** 53 + 2, /beyond ±\(2\^53 − 1\) send it as a decimal string/],
    ['INT64', '99999999999999999999', /INT64 expects an integer from -9223372036854775808 to 9223372036854775807/],
    ['UINT64', '-1', /UINT64 expects an integer from 0/],
    ['INT64', '12abc', /INT64 expects an integer/],
    ['BOOL', 1, /BOOL expects true or false/],
    ['FP16', 70000, /FP16 expects a finite number within ±65504/],
    ['FP32', 'nan', /FP32 expects a number, or "NaN", "Infinity", "-Infinity" as strings/],
    // Names every object inherits are not among the strings a float takes.
    ['FP32', 'toString', /FP32 expects a number, or "NaN", "Infinity", "-Infinity" as strings/],
    ['FP64', 'constructor', /FP64 expects a number, or "NaN", "Infinity", "-Infinity" as strings/],
    ['BYTES', 42, /BYTES expects a string/],
  ];
  for (const [type, value, message] of refusals) {
    it(`refuses ${JSON.stringify(value)} as ${type}`, async () => {
      const values = { ...VALUES, [type]: [value, ...VALUES[type]!.slice(1)] };
      const res = await infer(`/v2/models/${name}/infer`, request(values));
      expect(res.status).toBe(400);
      const { error } = await res.json<any>();
      expect(error).toContain(`input 'in_${type.toLowerCase()}'`);
      expect(error).toMatch(message);
    });
  }
});

describe('half precision conversion without Float16Array', () => {
  it('matches the runtime for representative values', () => {
    const Float16 = (globalThis as any).Float16Array as { new (v: number[]): ArrayLike<number> } | undefined;
    const samples = [0, -0, 1, -1.5, 0.1, 65504, 1e-5, 6e-8, 3.14159, 2049, 2051, -70000, Infinity, NaN];
    for (const v of samples) {
      const back = fromHalfBits(toHalfBits(v));
      if (Number.isNaN(v)) expect(Number.isNaN(back)).toBe(true);
      else if (Float16) expect(back, String(v)).toBe(new Float16([v])[0]);
      else expect(Math.abs(back - v)).toBeLessThanOrEqual(Math.abs(v) / 1000 + 6e-8);
    }
  });
});
