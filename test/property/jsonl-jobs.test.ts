import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, fixture, newModel, resultLines, waitForJob } from '../helpers';
import { answer, check, oddString, wellFormed } from './support';
import { identityElement } from './tensors';

/*
 * Property: a batch job over any JSONL input accounts for every input line exactly once. The
 * results hold one line per input row, in order, indexed 0..n−1: a prediction that is right
 * (regressor: y = 2·x1 − x2 + 0.5) for a valid row, an error for any other; the job's counts
 * agree. Rows are what the contract says: every "\n" ends one, a final newline does not start
 * an empty one, a "\r" before it is dropped, a BOM at the start of the file is not data.
 * Jobs run through the real local queues, so runs are few.
 */

const TIMEOUT = 600_000;
const RUNS = { uploads: 20, inline: 8 };

const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.float({ min: -1e4, max: 1e4, noNaN: true }).map((v) => (v === 0 ? 0 : v)),
);

/** One line's text (without its newline), from valid rows to noise. */
const line = fc.oneof(
  { arbitrary: fc.tuple(number, number).map((r) => JSON.stringify(r)), weight: 6 },
  fc.tuple(number, number).map((x) => JSON.stringify({ x })),
  fc.tuple(number, number).map(([a, b]) => ` [ ${a} ,\t${b} ] `),
  fc.constantFrom('', ' ', '\t', '\r', '{', '[1,2', "{'x':[1,2]}", 'NaN', 'null', '[1]', '[1,2,3]', '[[1,2]]'),
  fc.constantFrom('["NaN", 1]', '["Infinity", "-Infinity"]', '[1e39, 0]', '{"y":[1,2]}', '{"x":[1,2],"z":1}'),
  fc.constantFrom('\ufeff[1,2]', '[1,2]\ufeff', '\u2028[1,2]', '[1,\u00a02]'),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  oddString(30).map(wellFormed),
  fc.integer({ min: 10_000, max: 60_000 }).map((n) => `[${'1,'.repeat(n)}1]`),
  fc.integer({ min: 10_000, max: 60_000 }).map((n) => JSON.stringify('é'.repeat(n))),
);

const file = fc.record({
  bom: fc.boolean(),
  lines: fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n')), { minLength: 1, maxLength: 25 }),
  finalNewline: fc.boolean(),
});
type File = typeof file extends fc.Arbitrary<infer F> ? F : never;

function text(f: File): string {
  const body = f.lines.map(([l, end], i) => (i < f.lines.length - 1 || f.finalNewline ? l + end : l)).join('');
  return (f.bom ? '\ufeff' : '') + body;
}

/** The rows of a JSONL text, by the contract (independent of how the platform splits it). */
function rowsOf(content: string): string[] {
  const body = content.startsWith('\ufeff') ? content.slice(1) : content;
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

const FP32 = (v: unknown) => identityElement('FP32', v);
const num = (v: unknown) => (typeof v === 'string' ? Number(v) : (v as number));

/** What a parsed row means to the regressor ([x1, x2]); undefined when it must fail. */
function interpret(row: unknown): [number, number] | undefined {
  const x = typeof row === 'object' && row !== null && !Array.isArray(row) ? single(row) : row;
  if (!Array.isArray(x) || x.length !== 2 || x.some((v) => FP32(v) === undefined)) return undefined;
  return [num(FP32(x[0])), num(FP32(x[1]))];
}
const single = (r: object) => (Object.keys(r).length === 1 && 'x' in r ? (r as { x: unknown }).x : undefined);

function parse(l: string): { row: unknown } | undefined {
  if (l.trim() === '') return undefined;
  try {
    return { row: JSON.parse(l) };
  } catch {
    return undefined;
  }
}

/** Checks one result line against the input row it answers. */
function expectResult(result: Record<string, unknown>, index: number, raw: string, includeInput: boolean) {
  expect(result.index).toBe(index);
  const parsed = parse(raw);
  if (includeInput) expect(result.input, `row ${index}`).toEqual(parsed ? parsed.row : raw);
  const meaning = parsed && interpret(parsed.row);
  if (!meaning) {
    expect(result, `row ${index}: ${JSON.stringify(raw.slice(0, 80))}`).toHaveProperty('error');
    expect(result).not.toHaveProperty('prediction');
    expect(typeof result.error).toBe('string');
    if (raw.trim() === '') expect(result.error).toBe('empty line');
    else if (!parsed) expect(result.error).toMatch(/not valid JSON/);
    return;
  }
  expect(result, `row ${index}: ${JSON.stringify(raw.slice(0, 80))}`).not.toHaveProperty('error');
  const [x1, x2] = meaning;
  const want = 2 * x1 - x2 + 0.5;
  const got = result.prediction;
  if (Number.isFinite(want)) {
    expect(typeof got, `row ${index}: ${JSON.stringify(got)}`).toBe('number');
    expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(1e-6 * (2 * Math.abs(x1) + Math.abs(x2)) + 1e-5);
  } else {
    expect(got).toBe(Number.isNaN(want) ? 'NaN' : want > 0 ? 'Infinity' : '-Infinity');
  }
}

async function runJob(model: string, input: object, chunkSize: number, includeInput: boolean) {
  const res = await call('POST', '/v1/jobs', {
    body: { model, input, chunk_size: chunkSize, include_input: includeInput },
  });
  const a = await answer(res);
  expect(a.status, a.text).toBe(202);
  const job = await waitForJob(a.json.id, 120_000);
  return { job, results: await resultLines(a.json.id) };
}

/** Every row exactly once, in order, and counts that agree with the lines. */
function expectAccounted(job: any, results: Record<string, unknown>[], rows: string[], includeInput: boolean): void {
  expect(results.map((r) => r.index)).toEqual(rows.map((_, i) => i));
  results.forEach((r, i) => expectResult(r, i, rows[i]!, includeInput));
  const failed = results.filter((r) => 'error' in r).length;
  expect(job.rows).toEqual({ total: rows.length, done: rows.length - failed, failed });
  expect(job.status).toBe(failed === 0 ? 'succeeded' : failed === rows.length ? 'failed' : 'partially_failed');
}

describe('JSONL batch jobs, property-based', () => {
  let model: string;
  beforeAll(async () => {
    model = await newModel(fixture('generated/regressor.onnx'), 'prop-jsonl');
  });

  it(
    `uploaded JSONL: every line accounted for exactly once (${RUNS.uploads} jobs)`,
    async () => {
      await check(
        fc.asyncProperty(file, fc.integer({ min: 1, max: 7 }), fc.boolean(), async (f, chunkSize, includeInput) => {
          const content = text(f);
          const bytes = new TextEncoder().encode(content);
          const upload = await answer(
            await call('POST', '/v1/uploads', { body: bytes, headers: { 'content-type': 'application/x-ndjson' } }),
          );
          // Over MAX_UPLOAD_BYTES, and only then: refused whole, nothing to account for.
          const over = bytes.byteLength > Number(env.MAX_UPLOAD_BYTES);
          expect(upload.status, `${bytes.byteLength} bytes: ${upload.text.slice(0, 300)}`).toBe(over ? 413 : 201);
          if (over) return;
          const { job, results } = await runJob(model, { upload_id: upload.json.id }, chunkSize, includeInput);
          expectAccounted(job, results, rowsOf(content), includeInput);
        }),
        RUNS.uploads,
      );
    },
    TIMEOUT,
  );

  it(
    `inline rows: every row accounted for exactly once (${RUNS.inline} jobs)`,
    async () => {
      const row = fc.oneof(
        { arbitrary: fc.tuple(number, number), weight: 4 },
        fc.tuple(number, number).map((x) => ({ x })),
        fc.jsonValue(),
        oddString(20).map(wellFormed),
      );
      await check(
        fc.asyncProperty(
          fc.array(row, { minLength: 1, maxLength: 20 }),
          fc.integer({ min: 1, max: 7 }),
          async (rows, chunkSize) => {
            const { job, results } = await runJob(model, { rows }, chunkSize, true);
            // Inline rows are stored one JSON text per line, so each is its own row.
            expectAccounted(
              job,
              results,
              rows.map((r) => JSON.stringify(r)),
              true,
            );
          },
        ),
        RUNS.inline,
      );
    },
    TIMEOUT,
  );

  it('an empty upload is refused at once with a 4xx that says so', async () => {
    const a = await answer(
      await call('POST', '/v1/uploads', {
        body: new Uint8Array(0),
        headers: { 'content-type': 'application/x-ndjson' },
      }),
    );
    expect(a.status).toBe(400);
    expect(a.json.error.message).toContain('empty');
  });
});
