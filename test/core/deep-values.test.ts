import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { uploadRows } from '../../workers/batch/uploads';
import { DomainError } from '../../workers/core/errors';
import { MAX_JSON_DEPTH, requireJsonDepth } from '../../workers/core/json-depth';
import { resolveServed } from '../../workers/inference/served-versions';
import { setBaselineFromRows } from '../../workers/monitoring/drift/baselines';
import { recordFeedback } from '../../workers/monitoring/predictions';
import { captureBatchQueue, runAll } from '../batch/queue-driver';
import { callJson, depsFor, fixture, newModel, resultLines } from '../helpers';

/*
 * Values nested ~10,000 deep (a 14 KB body holds 7,000 levels) reach the services that store,
 * echo or validate rows: each refuses them with a 400 naming the limit, never a stack overflow.
 */

const DEPTH = 10_000;
const deepText = (depth = DEPTH) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const deepObject = (depth = DEPTH) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) as unknown;
const scope = { workspaceId: 'ws_default', actorId: 'admin' };
const deps = () => depsFor(env);

async function refusal(work: Promise<unknown>): Promise<DomainError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

afterEach(() => vi.restoreAllMocks());

describe('requireJsonDepth', () => {
  it('names the limit and the path, as a 400', () => {
    expect(() => requireJsonDepth({ rows: [JSON.parse(deepText())] }, 'request body')).toThrow(
      `request body 'rows[0]${'[0]'.repeat(MAX_JSON_DEPTH - 2)}' nests deeper than the limit of ${MAX_JSON_DEPTH} levels`,
    );
    try {
      requireJsonDepth(deepObject(), 'request body');
    } catch (err) {
      expect(err).toMatchObject({ kind: 'invalid_argument', code: 'nesting_too_deep', details: { limit: 64 } });
    }
    expect(() => requireJsonDepth({ a: [[1]] }, 'request body')).not.toThrow();
  });
});

describe('services refuse values nested 10,000 deep', () => {
  it('feedback: the true value', async () => {
    const err = await refusal(recordFeedback(deps().db, scope, 'prd_any', [deepObject()]));
    expect(err).toMatchObject({ code: 'nesting_too_deep' });
    expect(err.message).toMatch(/^the true value of row 0 'a\.a\.a.* nests deeper than the limit of 64 levels$/);
  });

  it('inline job rows', async () => {
    const err = await refusal(uploadRows(deps(), scope, [[1, 2], JSON.parse(deepText())]));
    expect(err.message).toMatch(/^row 1 '\[0\]\[0\].*' nests deeper than the limit of 64 levels$/);
  });

  it('baseline rows', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'deep');
    const d = deps();
    const served = await resolveServed(d, scope, name, '1');
    const rows = Array.from({ length: 20 }, (_, i) => (i === 7 ? JSON.parse(deepText()) : [i, i]));
    const err = await refusal(setBaselineFromRows(d, scope, served, rows));
    expect(err.message).toMatch(/^baseline row 7 .* nests deeper than the limit of 64 levels$/);
  });

  it('batch rows from an uploaded JSONL file: a row error, the job still ends', async () => {
    const name = await newModel(fixture('generated/regressor.onnx'), 'deep');
    const body = new TextEncoder().encode(['[1, 2]', deepText(), `{"x": ${deepText(5000)}}`, '[3, 4]'].join('\n'));
    const upload = await callJson('POST', '/v1/uploads', 201, {
      body,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    const captured = captureBatchQueue();
    const job = await callJson('POST', '/v1/jobs', 202, {
      body: { model: name, input: { upload_id: upload.id }, include_input: true },
    });
    await runAll(captured);
    expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toMatchObject({
      status: 'partially_failed',
      rows: { total: 4, done: 2, failed: 2 },
    });
    const lines = await resultLines(job.id);
    expect(lines[0]).toMatchObject({ index: 0, prediction: 0.5 });
    expect(lines[1].error).toMatch(/^the row nests deeper than the limit of 64 levels at '\[0\]/);
    expect(lines[1].input).toBe(deepText()); // echoed as the line's text, not re-serialised
    expect(lines[2].error).toMatch(/at 'x\[0\]/);
    expect(lines[3]).toMatchObject({ index: 3, prediction: 2.5 });
  });
});
