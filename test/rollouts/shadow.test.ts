import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { callJson, fixture, uniqueName, uploadRaw } from '../helpers';
import { regressorWithBias } from '../concurrency/regressor-versions';
import { faultyEnv } from '../faults/faulty-env';
import { putAlias, Rollout } from './support';

/*
 * Shadow traffic: the shadow version runs after the answer is sent, and whatever it does —
 * answer differently, throw, hang — every caller's answer is byte for byte what the primary
 * gives on its own. Its comparisons are counted: differences per output for regressors, label
 * agreement and probability differences for classifiers, errors for the rest.
 */

const ROWS: [number, number][] = [
  [1, 2],
  [3, -1],
  [0.5, 4],
  [10, 1],
  [-2, 5],
  [4, 4.5],
];
const v2Body = (row: [number, number]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: row }] });
const NO_STORE = { 'cache-control': 'no-store' };

async function uploadAll(name: string, files: Uint8Array[]): Promise<void> {
  for (const bytes of files) expect((await uploadRaw(name, bytes)).status).toBe(201);
}

/** Asks through the alias and through the primary's number: the two answers must be the same bytes. */
async function expectPrimaryAnswers(rollout: Rollout, name: string, primary: number, records = false) {
  for (const row of ROWS) {
    const [viaAlias, direct] = records
      ? await Promise.all([
          rollout.send('POST', `/v1/models/${name}/predict`, { body: { instances: [row] }, headers: NO_STORE }),
          rollout.send('POST', `/v1/models/${name}/versions/${primary}/predict`, {
            body: { instances: [row] },
            headers: NO_STORE,
          }),
        ])
      : await Promise.all([
          rollout.send('POST', `/v2/models/${name}/infer`, { body: v2Body(row), headers: NO_STORE }),
          rollout.send('POST', `/v2/models/${name}/versions/${primary}/infer`, {
            body: v2Body(row),
            headers: NO_STORE,
          }),
        ]);
    expect(viaAlias.status, viaAlias.text).toBe(200);
    expect(viaAlias.text).toBe(direct.text);
  }
}

const scorecard = (rollout: Rollout, name: string) =>
  rollout.sendJson('GET', `/v1/models/${name}/aliases/production/scorecard?window=1h`, 200);

describe('shadow traffic', { timeout: 60_000 }, () => {
  it('compares a regressor output by output and never changes the answer', async () => {
    const name = uniqueName('shadow-reg');
    await uploadAll(name, [regressorWithBias(1), regressorWithBias(7.5)]);
    await putAlias(name, 'production', { version: 1, shadow: { version: 2, percent: 100 } });
    const rollout = new Rollout();
    await expectPrimaryAnswers(rollout, name, 1);
    const card = await scorecard(rollout, name);
    expect(card.routes).toHaveLength(1);
    expect(card.shadow).toMatchObject({
      version: 2,
      percent: 100,
      requests: ROWS.length,
      errors: 0,
      error_rate: 0,
      rows: ROWS.length,
      agreement_rate: null,
      probability_difference: null,
    });
    const [y] = card.shadow.outputs;
    expect(y).toMatchObject({ name: 'y', elements: ROWS.length, equal_rate: 0 });
    expect(y.abs_difference.mean).toBeCloseTo(6.5, 5);
    expect(y.abs_difference.max).toBeCloseTo(6.5, 5);
    // |a − b| / max(|a|, |b|) with a = 2·x1 − x2 + 1 and b = a + 6.5.
    const rel = ROWS.map(([x1, x2]) => {
      const a = 2 * x1 - x2 + 1;
      return 6.5 / Math.max(Math.abs(a), Math.abs(a + 6.5));
    });
    expect(y.rel_difference.max).toBeCloseTo(Math.max(...rel), 5);
    expect(y.rel_difference.mean).toBeCloseTo(rel.reduce((s, r) => s + r, 0) / rel.length, 5);
    expect(card.shadow.latency_ms.primary_mean).not.toBeNull();
    expect(card.shadow.latency_ms.shadow_mean).not.toBeNull();
  });

  it('compares a classifier by label and probability, through both APIs', async () => {
    const name = uniqueName('shadow-cls');
    await callJson('POST', '/v1/models', 201, {
      body: { name, task: 'classification', class_labels: ['left', 'right'] },
    });
    await uploadAll(name, [
      fixture('generated/classifier.onnx'),
      fixture('generated/classifier_sharp.onnx'),
      fixture('generated/classifier_flipped.onnx'),
    ]);
    const rollout = new Rollout();
    // Half the requests (seeded): the shadow agrees on every label, with surer probabilities.
    await rollout.sendJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      body: { version: 1, shadow: { version: 2, percent: 50 } },
    });
    await expectPrimaryAnswers(rollout, name, 1);
    await expectPrimaryAnswers(rollout, name, 1, true);
    const agreeing = (await scorecard(rollout, name)).shadow;
    expect(agreeing.requests).toBeGreaterThan(0);
    expect(agreeing.requests).toBeLessThan(2 * ROWS.length);
    expect(agreeing).toMatchObject({ errors: 0, agreement_rate: 1, outputs: [] });
    // softmax of (k·d, −k·d) for d = x1 − x2 is 1 / (1 + e^(−2kd)); the largest gap over the rows.
    const p = (k: number, d: number) => 1 / (1 + Math.exp(-2 * k * d));
    const largest = Math.max(...ROWS.map(([x1, x2]) => Math.abs(p(1, x1 - x2) - p(3, x1 - x2))));
    expect(agreeing.probability_difference.max).toBeLessThanOrEqual(largest + 1e-6);
    expect(agreeing.probability_difference.max).toBeGreaterThan(0);

    // The flipped classifier disagrees on every row.
    await rollout.sendJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      body: { version: 1, shadow: { version: 3, percent: 100 } },
    });
    await expectPrimaryAnswers(rollout, name, 1);
    const disagreeing = (await scorecard(rollout, name)).shadow;
    expect(disagreeing).toMatchObject({ version: 3, requests: ROWS.length, rows: ROWS.length, agreement_rate: 0 });
  });

  it('counts a shadow that throws as an error; the callers never see it', async () => {
    const name = uniqueName('shadow-throw');
    // Version 2 takes other inputs altogether: every shadow run fails validation.
    await uploadAll(name, [regressorWithBias(2), fixture('generated/multi.onnx')]);
    await putAlias(name, 'production', { version: 1, shadow: { version: 2, percent: 100 } });
    const rollout = new Rollout();
    await expectPrimaryAnswers(rollout, name, 1);
    await expectPrimaryAnswers(rollout, name, 1, true);
    expect((await scorecard(rollout, name)).shadow).toMatchObject({
      requests: 2 * ROWS.length,
      errors: 2 * ROWS.length,
      error_rate: 1,
      rows: 0,
    });
  });

  it('gives up a shadow that hangs after SHADOW_TIMEOUT_MS and counts it; the callers never wait for it', async () => {
    const name = uniqueName('shadow-hang');
    // A bias no other test uses: its file is in no cache, so loading it reads R2, which hangs.
    const bias = 1000 + Math.floor(Math.random() * 1e6) / 8;
    await uploadAll(name, [regressorWithBias(3), regressorWithBias(bias)]);
    const key = await env.DB.prepare(
      'select v.artifact_key as key from model_versions v join models m on m.id = v.model_id where m.name = ? and v.version = 2',
    )
      .bind(name)
      .first<{ key: string }>();
    const faults = faultyEnv({ SHADOW_TIMEOUT_MS: '300' }).add({
      binding: 'BUCKET',
      method: 'get',
      when: (args: unknown[]) => args[0] === key!.key,
      fault: 'hang',
    });
    await putAlias(name, 'production', { version: 1, shadow: { version: 2, percent: 100 } });
    const rollout = new Rollout(faults.env, 1, true);
    await expectPrimaryAnswers(rollout, name, 1);
    expect(faults.faultsOn('BUCKET', 'get')).toBeGreaterThan(0);
    expect((await scorecard(rollout, name)).shadow).toMatchObject({
      requests: ROWS.length,
      errors: ROWS.length,
      error_rate: 1,
    });
  });
});
