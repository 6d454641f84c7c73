import { describe, expect, it } from 'vitest';
import { bodyMaker } from '../../scripts/bench/edge/load.mjs';
import {
  awaitedLabel,
  classOf,
  d1Windows,
  renderMarkdown,
  summarizeCell,
  summarizeCold,
  tableOf,
  targets,
} from '../../scripts/bench/edge/report.mjs';

/* The latency model's arithmetic (npm run bench:edge): cells, D1 windows and the targets of issue 19. */

const zero = { D1: 0, DO: 0, KV: 0, R2: 0, CACHE: 0, QUEUE: 0 };

function stats(d1: [number, string][] = []) {
  const sql = [...new Set(d1.map(([, s]) => s))];
  return {
    since: 0,
    until: 10_000,
    calls: { ...zero, D1: d1.length },
    inRequest: { ...zero, D1: d1.length },
    awaited: zero,
    d1Statements: d1.length,
    d1: d1.map(([t, s], i) => [t, sql.indexOf(s), i + 1, 1]),
    sql,
  };
}

const KEY = 'select "api_keys"."id" from "api_keys" inner join "workspaces" on 1';
const MODEL = 'select "id" from "models" "models" where "models"."name" = ?';
const ALIAS = 'select "model_versions"."id" from "model_aliases" inner join "model_versions" on 1';
const METRICS = 'insert into "metric_rollups" ("a") values (?)';

/** A cell of `n` answers, `ms(i)` each. */
function cell(rate: number, delays: 'off' | 'on', ms: (i: number) => number, d1: [number, string][] = [], n = 100) {
  const results = Array.from({ length: n }, (_, i) => ({
    due: i,
    lateMs: 0,
    hot: i % 4 !== 0,
    ms: ms(i),
    status: 200,
    awaited: i % 4 === 0 ? 'DO=1,KV=1' : 'DO=1',
    cache: i % 4 === 0 ? 'MISS' : 'HIT',
  }));
  return summarizeCell({ rate, durationS: 10, delays, results, stats: stats(d1), windowS: 5 });
}

describe('bench:edge report', () => {
  it('classes D1 statements by the first table they name', () => {
    expect(tableOf(KEY)).toBe('api_keys');
    expect(classOf(KEY)).toBe('credential');
    expect(classOf(MODEL)).toBe('registry');
    expect(classOf(ALIAS)).toBe('registry');
    expect(classOf('update "api_keys" set "last_used_at" = ?')).toBe('credential');
    expect(classOf(METRICS)).toBe('other');
  });

  it('counts D1 statements per window, per key and per model', () => {
    const windows = d1Windows(
      stats([
        [100, KEY],
        [200, MODEL],
        [300, ALIAS],
        [5200, MODEL],
        [5300, METRICS],
      ]),
      5,
    );
    expect(windows.map((w) => [w.from_s, w.total, w.per_key, w.per_model, w.other])).toEqual([
      [0, 3, 1, 2, 0],
      [5, 2, 0, 1, 1],
    ]);
  });

  it('summarizes a cell: percentiles, awaited-call shares, cache outcomes', () => {
    const c = cell(20, 'on', (i) => i + 1);
    expect([c.p50_ms, c.p90_ms, c.p99_ms, c.max_ms]).toEqual([50, 90, 99, 100]);
    expect(c.awaited).toEqual([
      { calls: 'DO=1', count: 75, share: 0.75 },
      { calls: 'DO=1,KV=1', count: 25, share: 0.25 },
    ]);
    expect(c.cache).toEqual({ HIT: 75, MISS: 25 });
    expect(awaitedLabel('D1=2,DO=1')).toBe('D1×2 DO×1');
    expect(awaitedLabel('none')).toBe('none');
  });

  it('judges the targets: latency added by the delays, cold start, D1 per refresh window', () => {
    const report = {
      generated_at: '2026-01-01T00:00:00Z',
      machine: { cpus: 2, cpu_model: 'x', node: 'v20', workerd: '1' },
      method: {
        window_s: 5,
        delays: { D1: 150, DO: 150, KV: 20, R2: 50, CACHE: 0, QUEUE: 0 },
        model: 'iris',
        input: '',
      },
      cells: [
        cell(1, 'off', () => 7),
        cell(1, 'on', () => 11), // +4 ms: within 5
        cell(20, 'off', () => 5),
        cell(20, 'on', (i) => (i < 98 ? 5 : 200)), // p99 +195 ms
        cell(200, 'off', () => 3),
        cell(200, 'on', () => 3, [
          [10, KEY],
          [20, MODEL],
          [30, MODEL],
          [40, MODEL],
        ]),
      ],
      cold_start: [
        summarizeCold('off', [{ restartMs: 1, firstMs: 300, secondMs: 5, awaited: 'D1=4' }]),
        summarizeCold('on', [
          { restartMs: 1, firstMs: 900, secondMs: 5, awaited: 'D1=4' },
          { restartMs: 1, firstMs: 500, secondMs: 5, awaited: 'D1=4' },
          { restartMs: 1, firstMs: 700, secondMs: 5, awaited: 'D1=4' },
        ]),
      ],
    };
    const verdicts = targets(report);
    expect(verdicts.map((t) => t.met)).toEqual([true, true, true, false, false, false]);
    expect(verdicts[4]!.value).toBe('700.0 ms (median of 3)');
    expect(verdicts[5]!.value).toContain('1 per key, 3 per model');
    const md = renderMarkdown({ ...report, targets: verdicts });
    expect(md).toContain('| 20 req/s: p99 with delays within 60 ms of p99 without | 200.0 vs 5.0 ms (+195.0) | FAIL |');
    expect(md).toContain('DO×1: 75%; DO×1 KV×1: 25%');
  });

  it('leaves the D1 target open when the busiest cell is not longer than a refresh interval', () => {
    const short = { ...cell(200, 'on', () => 3), duration_s: 3 };
    const verdicts = targets({ method: { window_s: 5 }, cells: [short], cold_start: [] });
    expect(verdicts.at(-1)!.met).toBeNull();
  });

  it('sends the same inputs for the same seed; new ones never repeat', () => {
    const inputs = [{ name: 'f', datatype: 'FP32', shape: [1, 2], data: [0.5, 0.5] }];
    const a = bodyMaker({ inputs, repeat: 0.5, hot: 4, seed: 7, fresh: 0 });
    const b = bodyMaker({ inputs, repeat: 0.5, hot: 4, seed: 7, fresh: 0 });
    const bodies = Array.from({ length: 200 }, () => a.make());
    expect(Array.from({ length: 200 }, () => b.make())).toEqual(bodies);
    const fresh = bodies.filter((x) => !x.hot).map((x) => x.body);
    expect(new Set(fresh).size).toBe(fresh.length);
    expect(new Set(bodies.filter((x) => x.hot).map((x) => x.body)).size).toBeLessThanOrEqual(4);
    expect(a.next()).toBe(fresh.length);
    expect(Math.fround(1 + 1 / 2 ** 20)).not.toBe(Math.fround(1 + 2 / 2 ** 20));
  });
});
