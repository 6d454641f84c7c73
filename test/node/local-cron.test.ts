import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildDemoModel, DEMO } from '../../scripts/demo-model.mjs';
import { matches, nextRun, parseCron, wranglerCrons } from '../../scripts/lib/cron.mjs';
import { localSchedule, runLocalCron } from '../../scripts/lib/local-cron.mjs';
import { ROOT } from './server';

/*
 * Issue 17, point 2: `npm start` runs the cron chores (wrangler dev never does), on
 * wrangler.toml's schedule or every minute, and says so.
 */

const at = (iso: string) => new Date(iso);

describe('cron expressions', () => {
  it('name the minutes Cloudflare would fire them, in UTC', () => {
    const every5 = parseCron('*/5 * * * *');
    expect(nextRun(every5, at('2026-11-26T12:03:59Z')).toISOString()).toBe('2026-11-26T12:05:00.000Z');
    expect(nextRun(every5, at('2026-11-26T12:05:00Z')).toISOString()).toBe('2026-11-26T12:10:00.000Z');
    const nightly = parseCron('30 2 * * 1-5');
    // 2026-11-28 is a Saturday: the next weekday is Monday the 30th.
    expect(nextRun(nightly, at('2026-11-27T03:00:00Z')).toISOString()).toBe('2026-11-30T02:30:00.000Z');
    expect(matches(parseCron('0 0 1,15 * 0'), at('2026-11-29T00:00:00Z'))).toBe(true); // a Sunday
    expect(matches(parseCron('0 0 1,15 * 7'), at('2026-11-15T00:00:00Z'))).toBe(true); // the 15th
    expect(matches(parseCron('0 0 1,15 * 7'), at('2026-11-16T00:00:00Z'))).toBe(false);
    expect(nextRun(parseCron('0 0 29 2 *'), at('2026-03-01T00:00:00Z')).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it('refuse what they cannot read, naming the field', () => {
    expect(() => parseCron('*/5 * * *')).toThrow(/expected 5 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/minute "61" is outside 0-59/);
    expect(() => parseCron('* * * jan *')).toThrow(/cannot read month "jan"/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/minute "\*\/0"/);
    expect(() => nextRun(parseCron('0 0 31 2 *'), at('2026-01-01T00:00:00Z'))).toThrow(
      /names no minute in the next five years/,
    );
  });

  it('are read from wrangler.toml’s top-level triggers, not an environment’s', () => {
    expect(wranglerCrons(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))).toEqual(['*/5 * * * *', '* * * * *']);
    expect(wranglerCrons('[triggers]\ncrons = ["0 * * * *", "*/10 * * * *"]\n')).toEqual(['0 * * * *', '*/10 * * * *']);
    expect(wranglerCrons('[env.production]\ntriggers = { crons = ["*/5 * * * *"] }\n')).toEqual([]);
  });
});

describe('npm start’s schedule', () => {
  it('is every minute by default, wrangler.toml’s or none when asked, and says which', () => {
    const minute = localSchedule(undefined, ['*/5 * * * *']);
    expect(minute.describe).toBe('every minute (wrangler.toml: "*/5 * * * *")');
    expect(minute.specs.map((s: any) => s.expr)).toEqual(['*/5 * * * *']);
    const wrangler = localSchedule('wrangler', ['*/5 * * * *']);
    expect(wrangler.describe).toBe('"*/5 * * * *" (UTC), as wrangler.toml gives');
    expect(localSchedule('off', ['*/5 * * * *'])).toMatchObject({ specs: [], describe: 'off' });
    expect(localSchedule('minute', []).describe).toBe('none (wrangler.toml has no crons)');
    expect(() => localSchedule('hourly', ['*/5 * * * *'])).toThrow(
      /MODELFLARE_CRON is minute, wrangler, off; not "hourly"/,
    );
  });

  /** A clock that jumps to each wake-up at once, stopping after `runs` reports. */
  function fakeClock(start: string, runs: number) {
    let t = Date.parse(start);
    const abort = new AbortController();
    const reports: any[] = [];
    return {
      abort,
      reports,
      now: () => t,
      sleep: async (ms: number) => void (t += ms),
      report: (r: any) => {
        reports.push(r);
        if (reports.length >= runs) abort.abort();
      },
    };
  }

  it('fires the scheduled handler at each minute the schedule names, with that minute as its time', async () => {
    const clock = fakeClock('2026-11-26T12:03:10Z', 3);
    const urls: string[] = [];
    await runLocalCron({
      base: 'http://127.0.0.1:1',
      schedule: localSchedule('wrangler', ['*/5 * * * *']),
      signal: clock.abort.signal,
      report: clock.report,
      now: clock.now,
      sleep: clock.sleep,
      fetchFn: async (url: string) => {
        urls.push(url);
        return new Response('ok');
      },
    });
    const times = ['12:05', '12:10', '12:15'].map((hm) => Date.parse(`2026-11-26T${hm}:00Z`));
    expect(urls).toEqual(
      times.map((t) => `http://127.0.0.1:1/cdn-cgi/handler/scheduled?cron=*%2F5%20*%20*%20*%20*&time=${t}`),
    );
    expect(clock.reports).toEqual(times.map((t) => ({ cron: '*/5 * * * *', at: t, ok: true, status: 200 })));
  });

  it('reports a failed run and goes on; off fires nothing', async () => {
    const clock = fakeClock('2026-11-26T12:00:30Z', 2);
    let calls = 0;
    await runLocalCron({
      base: 'http://127.0.0.1:1',
      schedule: localSchedule('minute', ['*/5 * * * *']),
      signal: clock.abort.signal,
      report: clock.report,
      now: clock.now,
      sleep: clock.sleep,
      fetchFn: async () => {
        calls += 1;
        if (calls === 1) throw new Error('connect ECONNREFUSED');
        return new Response('exception', { status: 500 });
      },
    });
    expect(clock.reports.map((r) => [new Date(r.at).toISOString().slice(11, 16), r.ok, r.status ?? r.error])).toEqual([
      ['12:01', false, 'connect ECONNREFUSED'],
      ['12:02', false, 500],
    ]);
    let fired = false;
    await runLocalCron({
      base: 'http://127.0.0.1:1',
      schedule: localSchedule('off', ['*/5 * * * *']),
      fetchFn: async () => {
        fired = true;
        return new Response('ok');
      },
    });
    expect(fired).toBe(false);
  });

  it('runs the worker’s chores through wrangler dev: an alert rule is evaluated without any call by hand', async () => {
    const { url, adminKey } = inject('server');
    const name = `cron-${randomUUID().slice(0, 8)}`;
    const api = async (method: string, path: string, body?: unknown, type = 'application/json') => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, ...(body !== undefined && { 'content-type': type }) },
        body: body instanceof Uint8Array ? body : body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    };
    expect((await api('POST', '/v1/models', { ...DEMO, name })).status).toBe(201);
    expect(
      (await api('POST', `/v1/models/${name}/versions`, buildDemoModel(), 'application/octet-stream')).status,
    ).toBe(201);
    const rule = await api('POST', `/v1/models/${name}/alerts`, {
      metric: 'latency_p99_ms',
      condition: 'below',
      threshold: 3_600_000,
      min_samples: 1,
    });
    expect(rule.status).toBe(201);
    expect((await api('POST', `/v1/models/${name}/predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] })).status).toBe(200);

    const clock = fakeClock(new Date().toISOString(), 1);
    await runLocalCron({
      base: url,
      schedule: localSchedule('minute', ['*/5 * * * *']),
      signal: clock.abort.signal,
      report: clock.report,
      now: clock.now,
      sleep: clock.sleep,
    });
    expect(clock.reports).toEqual([expect.objectContaining({ ok: true, status: 200 })]);
    const after = await api('GET', `/v1/models/${name}/alerts/${rule.body.id}`);
    expect(after.body).toMatchObject({ state: 'firing', last_evaluation: { samples: 1 } });
  });
});
