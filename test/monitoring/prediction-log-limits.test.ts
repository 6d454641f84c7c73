import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { modelPerformance } from '../../workers/monitoring/performance';
import {
  LOGGED_ROW_BUDGET,
  MAX_LOGGED_PREDICTED_BYTES,
  maybeLogPrediction,
  recordFeedback,
  requirePrediction,
} from '../../workers/monitoring/predictions';
import { errorFields } from '../../workers/core/logger';
import { call, callJson, depsFor, fixture, newModel, waitForLogged } from '../helpers';

/*
 * Issue 13, point 3: with log_sample_rate 1, a 31,000-row request made a row over D1's 2 MB
 * limit (which local D1 does not enforce, so its size is measured here); the insert failed, the
 * error logged every input, and the X-Prediction-Id answered 404.
 */

const scope = { workspaceId: 'ws_default', actorId: 'admin' };
const ROWS = 31_000;

afterEach(() => vi.restoreAllMocks());

/** Bytes the stored row takes, column by column as D1 counts them. */
async function storedRowBytes(id: string): Promise<number> {
  const row = await env.DB.prepare(
    `select length(cast(id as blob)) + length(cast(workspace_id as blob)) + length(cast(model as blob))
       + length(cast(request_id as blob)) + length(cast(inputs as blob)) + length(cast(outputs as blob))
       + coalesce(length(cast(predicted as blob)), 0) + length(cast(cache as blob))
       + coalesce(length(cast(truncated as blob)), 0) + 3 * 8 as bytes
     from prediction_logs where id = ?`,
  )
    .bind(id)
    .first<{ bytes: number }>();
  return row!.bytes;
}

describe('a 31,000-row prediction with every prediction logged', () => {
  it('hands out an id that reads back, with inputs, outputs and predicted cut to a row under budget', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'big');
    await callJson('PATCH', `/v1/models/${name}`, 200, {
      body: { task: 'regression', monitoring: { log_sample_rate: 1 } },
    });
    // Values with many digits, as real features have: about 2.4 MB of JSON in and out.
    const data = Array.from({ length: ROWS * 2 }, (_, i) => ((i * 7919) % 1000) / 7 + 0.123456789);
    const res = await call('POST', `/v2/models/${name}/infer`, {
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, 2], data }] },
      headers: { 'cache-control': 'no-store' },
    });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-prediction-id')!;
    const prediction = await waitForLogged(id);
    expect(prediction.rows).toBe(ROWS);
    expect(prediction.inputs).toEqual({ truncated: true, bytes: expect.any(Number) });
    expect(prediction.inputs.bytes).toBeGreaterThan(1_000_000);
    expect(prediction.outputs).toEqual({ truncated: true, bytes: expect.any(Number) });
    expect(prediction.predicted.length).toBeGreaterThan(1000);
    expect(prediction.predicted.length).toBeLessThan(ROWS);
    expect(JSON.stringify(prediction.predicted).length).toBeLessThanOrEqual(MAX_LOGGED_PREDICTED_BYTES);

    const row = await requirePrediction(depsFor(env).db, scope, id);
    expect(row.truncated).toEqual({
      inputs: { bytes: prediction.inputs.bytes },
      outputs: { bytes: prediction.outputs.bytes },
      predicted: { rows: ROWS, kept: prediction.predicted.length },
    });
    const bytes = await storedRowBytes(id);
    expect(bytes).toBeLessThan(LOGGED_ROW_BUDGET);
    expect(bytes).toBeLessThan(2_000_000);

    // Feedback for every row: recorded in one statement (D1 binds at most 100 parameters); rows
    // whose predicted value was cut are kept without one and are not scored.
    const db = depsFor(env).db;
    const kept = prediction.predicted.length;
    const actual = prediction.predicted.map((p: number) => p + 1).concat(Array(ROWS - kept).fill(0));
    expect(await recordFeedback(db, scope, id, actual)).toBe(ROWS);
    const stored = await env.DB.prepare(
      'select count(*) as n, count(predicted) as scored from prediction_feedback where prediction_id = ?',
    )
      .bind(id)
      .first<{ n: number; scored: number }>();
    expect(stored).toEqual({ n: ROWS, scored: kept });
    const performance = await modelPerformance(db, 'ws_default', name, {
      task: 'regression',
      classLabels: null,
      windowMinutes: 60,
    });
    expect(performance.count).toBe(kept);
    expect((performance.metrics as { mae: number }).mae).toBeCloseTo(1, 5);
    await expect(recordFeedback(db, scope, id, actual)).rejects.toMatchObject({ code: 'feedback_exists' });
  }, 60_000);

  it('keeps feedback values exactly: strings, booleans, null, objects and 17-digit numbers', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'fb');
    await callJson('PATCH', `/v1/models/${name}`, 200, { body: { monitoring: { log_sample_rate: 1 } } });
    const rows = Array.from({ length: 15 }, (_, i) => [i, 1]);
    const res = await call('POST', `/v1/models/${name}/predict`, {
      body: { instances: rows },
      headers: { 'cache-control': 'no-store' },
    });
    const id = res.headers.get('x-prediction-id')!;
    await waitForLogged(id);
    const values = ['setosa', true, false, null, { a: [1, 'x'] }, 0.30000000000000004, -1e-300, 'a"b\\c', 7];
    const actual = rows.map((_, i) => values[i % values.length]);
    const db = depsFor(env).db;
    expect(await recordFeedback(db, scope, id, actual)).toBe(15);
    const stored = await db.query.predictionFeedback.findMany({
      where: (f, { eq }) => eq(f.predictionId, id),
      orderBy: (f, { asc }) => asc(f.row),
    });
    expect(stored.map((f) => f.actual)).toEqual(actual);
    expect(stored.map((f) => f.predicted)).toEqual(rows.map(([x1, x2]) => 2 * x1! - x2! + 0.5));
  });
});

describe('a prediction log that fails to insert', () => {
  it('logs the error class and D1 message, never the values bound to the query', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    const ctx = createExecutionContext();
    const deps = { ...depsFor(), defer: (work: Promise<unknown>) => ctx.waitUntil(work) };
    const secret = `SECRET-INPUT-${crypto.randomUUID()}`;
    const id = maybeLogPrediction(deps, 1, () => ({
      workspaceId: 'ws_default',
      model: null as unknown as string, // NOT NULL: the insert fails
      version: 1,
      requestId: 'req_x',
      inputs: JSON.stringify({ inputs: [{ name: secret }] }),
      outputs: JSON.stringify([{ data: [secret] }]),
      predicted: [secret],
      rows: 1,
      cache: 'MISS',
    }));
    expect(id).toMatch(/^prd_/);
    await waitOnExecutionContext(ctx);
    expect(errors.join('\n')).not.toContain(secret);
    expect(errors.join('\n')).not.toContain('params');
    const line = JSON.parse(errors.find((e) => e.includes('prediction log not written'))!);
    expect(line).toMatchObject({ level: 'error', prediction_id: id });
    expect(line.error).toMatch(
      /^DrizzleQueryError: query failed: .*NOT NULL constraint failed: prediction_logs\.model/,
    );
    expect(errors.every((e) => e.length < 1000)).toBe(true);
  });

  it('describes drizzle errors without their params or stack, and caps any message', () => {
    const cause = new Error('D1_ERROR: string or blob too big: SQLITE_TOOBIG');
    const wrapped = Object.assign(new Error('Failed query: insert into x values (?)\nparams: secret,values'), {
      name: 'DrizzleQueryError',
      cause,
    });
    expect(errorFields(wrapped, { stack: true })).toEqual({
      error: 'DrizzleQueryError: query failed: D1_ERROR: string or blob too big: SQLITE_TOOBIG',
      error_code: undefined,
      stack: undefined,
    });
    expect(errorFields(new Error(`boom params: ${'x'.repeat(10)}`)).error).toBe('Error: boom');
    expect(String(errorFields(new Error('y'.repeat(5000))).error).length).toBeLessThan(400);
    expect(errorFields('text')).toEqual({ error: 'text' });
  });
});
