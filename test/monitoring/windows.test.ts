import { describe, expect, it } from 'vitest';
import { bucketsFor, MAX_POINTS, stepMinutesFor } from '../../workers/monitoring/buckets';
import { call, callJson, fixture, uniqueName, uploadRaw, waitForLogged } from '../helpers';

/*
 * Issue 17, point 3: the dashboard's windows. A day in 24-minute buckets made fresh traffic a
 * single dot, "last hour" drew accuracy over a day, and versions were one line.
 */

const MINUTE = 60_000;

describe('window buckets', () => {
  it('give 60 to 120 points of a round step for every window the dashboard offers', () => {
    const now = Date.UTC(2026, 10, 26, 13, 47, 31);
    const steps: Record<string, number> = {};
    for (const [label, minutes] of [
      ['1h', 60],
      ['6h', 360],
      ['24h', 1440],
      ['7d', 7 * 1440],
      ['30d', 30 * 1440],
    ] as const) {
      const b = bucketsFor(minutes, now);
      steps[label] = b.stepMinutes;
      expect(b.starts.length, label).toBeGreaterThanOrEqual(60);
      expect(b.starts.length, label).toBeLessThanOrEqual(MAX_POINTS + 1);
      // Buckets sit on multiples of the step: a chart refreshed later keeps its points.
      for (const s of b.starts) expect(s % b.stepMinutes, label).toBe(0);
      expect(b.starts[0]!, label).toBeLessThanOrEqual(b.fromMinute);
      expect(b.starts.at(-1)!, label).toBeLessThanOrEqual(b.toMinute);
      expect(b.starts.at(-1)! + b.stepMinutes, label).toBeGreaterThan(b.toMinute);
    }
    expect(steps).toEqual({ '1h': 1, '6h': 5, '24h': 15, '7d': 120, '30d': 360 });
    expect(stepMinutesFor(5)).toBe(1);
    expect(stepMinutesFor(365 * 1440)).toBe(1440);
  });
});

async function iris(): Promise<string> {
  const name = uniqueName('win');
  await callJson('POST', '/v1/models', 201, {
    body: {
      name,
      task: 'classification',
      feature_names: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
      class_labels: ['setosa', 'versicolor', 'virginica'],
      monitoring: { log_sample_rate: 1 },
    },
  });
  expect((await uploadRaw(name, fixture('generated/iris.onnx'))).status).toBe(201);
  return name;
}

describe('stats and performance follow the window', () => {
  it('splits the series per version with by=version; the versions add up to the total', async () => {
    const name = uniqueName('win-versions');
    for (const file of ['regressor', 'regressor2'])
      expect((await uploadRaw(name, fixture(`generated/${file}.onnx`))).status).toBe(201);
    const row = { instances: [[1, 2]] };
    for (const [version, n] of [
      [1, 3],
      [2, 2],
    ] as const) {
      for (let i = 0; i < n; i++) {
        expect((await call('POST', `/v1/models/${name}/versions/${version}/predict`, { body: row })).status).toBe(200);
      }
    }
    const stats = await callJson('GET', `/v1/models/${name}/stats?window=6h&by=version`, 200);
    expect(stats.window.step_minutes).toBe(5);
    expect(stats.versions.map((v: any) => [v.version, v.requests])).toEqual([
      [2, 2],
      [1, 3],
    ]);
    for (const v of stats.versions) {
      expect(v.series).toHaveLength(stats.series.length);
      expect(v.series.reduce((n: number, p: any) => n + p.requests, 0)).toBe(v.requests);
    }
    stats.series.forEach((p: any, i: number) =>
      expect(p.requests).toBe(stats.versions.reduce((n: number, v: any) => n + v.series[i].requests, 0)),
    );
    // Without by=version the answer stays as it was.
    const plain = await callJson('GET', `/v1/models/${name}/stats?window=6h`, 200);
    expect(plain.versions[0].series).toBeUndefined();
    expect((await callJson('GET', `/v1/models/${name}/stats?by=route`, 400)).error.message).toMatch(/by/);
  });

  it('performance is over the window asked for, in the same buckets as the stats', async () => {
    const name = await iris();
    const res = await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[5.0, 3.4, 1.5, 0.2]] } });
    const id = res.headers.get('x-prediction-id')!;
    await waitForLogged(id);
    await callJson('POST', `/v1/predictions/${id}/feedback`, 201, { body: { actual: 'setosa' } });
    const hour = await callJson('GET', `/v1/models/${name}/performance?window=1h`, 200);
    expect(hour).toMatchObject({ step_minutes: 1, step: 'hour', count: 1 });
    expect(hour.series.length).toBeGreaterThanOrEqual(60);
    expect(hour.series.length).toBeLessThanOrEqual(61);
    expect(Date.parse(hour.series.at(-1).at)).toBeGreaterThan(Date.now() - 2 * MINUTE);
    expect(hour.series.filter((p: any) => p.count > 0)).toEqual([expect.objectContaining({ count: 1, value: 1 })]);
    const month = await callJson('GET', `/v1/models/${name}/performance?window=30d`, 200);
    expect(month).toMatchObject({ step_minutes: 360, step: 'hour' });
  });

  it('lists logged predictions with the feedback they got', async () => {
    const name = await iris();
    const send = async () => {
      const res = await call('POST', `/v1/models/${name}/predict`, {
        body: { instances: [[5.0, 3.4, 1.5, 0.2]] },
        headers: { 'cache-control': 'no-store' },
      });
      return (await waitForLogged(res.headers.get('x-prediction-id')!)).id as string;
    };
    const answered = await send();
    const open = await send();
    await callJson('POST', `/v1/predictions/${answered}/feedback`, 201, { body: { actual: 'versicolor' } });
    const list = await callJson('GET', `/v1/models/${name}/predictions`, 200);
    const byId = new Map(list.predictions.map((p: any) => [p.id, p]));
    expect((byId.get(answered) as any).feedback).toEqual({ actual: ['versicolor'], received_at: expect.any(String) });
    expect((byId.get(open) as any).feedback).toBeNull();
    expect((await callJson('GET', `/v1/predictions/${answered}`, 200)).feedback.actual).toEqual(['versicolor']);
  });
});
