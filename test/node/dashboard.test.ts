import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { takeScreenshots, views } from '../../scripts/dashboard/screenshots.mjs';
import { buildDemoModel, DEMO } from '../../scripts/demo-model.mjs';
import { apiClient } from '../../scripts/lib/api-client.mjs';
import { runTraffic, setUp } from '../../scripts/traffic.mjs';
import { requireBrowser, withPage } from './browser';
import { fiveFeatureCandidate } from './rollout-models';
import { ROOT } from './server';

/*
 * Issue 17, point 3: a dashboard people keep open, driven as a user would in headless
 * Chromium, on data the traffic generator made (scripts/traffic.mjs).
 */

const FEATURES = DEMO.feature_names;
const name = `dash-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const { url, adminKey } = inject('server');
  const api = apiClient(url, adminKey);
  await setUp(api, name);
  // Every prediction logged (the generator samples a quarter): the predictions view is asserted
  // to hold more than one page of 25, which a quarter of a slow machine's traffic may not make.
  const logged = await api('PATCH', `/v1/models/${name}`, {
    monitoring: { log_sample_rate: 1, drift: { window_hours: 1 } },
  });
  expect(logged.status).toBe(200);
  // Twenty seconds in cycles of twelve: calm, an incident (errors, then shifted rows), calm.
  const sent = await runTraffic({ api, name, minutes: 1 / 3, rate: 8, cycleMinutes: 0.2, batchEverySeconds: 8 });
  expect(sent.errors).toBeGreaterThan(0);
  expect(sent.feedback).toBeGreaterThan(0);
  // The chores the cron runs (drift reports, alert rules), asked for as wrangler dev allows.
  const cron = await fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('*/5 * * * *')}`);
  expect(cron.status, await cron.text()).toBe(200);
  // Jobs run on the queues in the background: wait until the generator's have ended.
  for (let i = 0; i < 120; i++) {
    const jobs = await api('GET', `/v1/jobs?model=${name}`);
    if (jobs.body.jobs.length > 0 && jobs.body.jobs.every((j: any) => j.finished_at)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
}, 180_000);

async function signIn(page: Page, viewport = { width: 1400, height: 1000 }) {
  const { url, adminKey } = inject('server');
  await page.setViewportSize(viewport);
  await page.goto(`${url}/dashboard#/models/${name}/overview?window=1h`);
  await page.fill('#token', adminKey);
  await page.click('#signin button[type=submit]');
  await page.locator(`#content[data-ready="${name}/overview"]`).waitFor();
}

const open = async (page: Page, hash: string, ready: string) => {
  // In the page: its own navigation, a fragment change (the token stays in the tab).
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.locator(`#content[data-ready="${ready}"]`).waitFor();
};

const panel = (page: Page, id: string) => page.locator(`[data-panel="${id}"]`);

describe('the dashboard', () => {
  it('draws every chart over the window chosen, per version, with round axis ticks and alert thresholds', async (ctx) => {
    requireBrowser(ctx);
    await withPage(async (page, errors) => {
      await signIn(page);
      const cards = Object.fromEntries(
        await page
          .locator('[data-card]')
          .evaluateAll((nodes) => nodes.map((n) => [(n as any).dataset.card, n.textContent])),
      );
      expect(Number(cards.requests.replace(/\D/g, ''))).toBeGreaterThan(0);
      expect(cards.alerts).toMatch(/of 4$/);
      for (const chart of ['traffic', 'latency', 'errors', 'cache', 'performance', 'drift-trend']) {
        expect(Number(await panel(page, chart).getAttribute('data-points')), chart).toBeGreaterThan(0);
        expect(await panel(page, chart).locator('canvas').count(), chart).toBe(1);
        // Every time chart spans the window asked for: an hour.
        const [from, to] = (await panel(page, chart).getAttribute('data-window'))!.split('/').map(Number);
        expect(to! - from!, chart).toBeGreaterThanOrEqual(60 * 60_000);
        expect(to! - from!, chart).toBeLessThanOrEqual(61 * 60_000);
      }
      // Two versions serve: one line each.
      expect(await panel(page, 'traffic').getAttribute('data-series')).toBe('v1,v2');
      expect(await panel(page, 'errors').getAttribute('data-series')).toBe('v1,v2');
      expect(await panel(page, 'traffic').locator('h3').innerText()).toBe('Requests per 1 min');
      // The alert rules' thresholds are drawn on the charts of their metrics.
      expect(await panel(page, 'errors').getAttribute('data-lines')).toBe('alert: error rate over 10%');
      expect(await panel(page, 'performance').getAttribute('data-lines')).toBe('alert: accuracy under 80%');
      expect(await panel(page, 'drift-trend').getAttribute('data-lines')).toMatch(/^PSI threshold 0\.2/);
      // Ticks at round values, labelled with the decimals their step needs.
      for (const chart of ['traffic', 'errors', 'cache']) {
        const ticks = (await panel(page, chart).getAttribute('data-y-ticks'))!.split(',');
        const values = ticks.map((t) => Number(t.replace(/[%,]/g, '')));
        const step = values[1]! - values[0]!;
        expect(
          values.every((v, i) => i === 0 || Math.abs(v - values[i - 1]! - step) < 1e-9),
          `${chart}: ${ticks}`,
        ).toBe(true);
        expect(
          // 1, 2 or 5 times a power of ten (a step of 3 or 25 would fail).
          [1, 2, 5].some((m) => {
            const power = Math.log10(step / m);
            return Math.abs(power - Math.round(power)) < 1e-9;
          }),
          `${chart}: ${ticks}`,
        ).toBe(true);
      }
      expect(await panel(page, 'errors').getAttribute('data-y-ticks')).toBe('0%,20%,40%,60%,80%,100%');

      // A wider window: coarser buckets, and every chart follows.
      await page.selectOption('#window', '7d');
      await page.locator(`#content[data-ready="${name}/overview"]`).waitFor();
      await expect.poll(() => page.evaluate('location.hash')).toContain('window=7d');
      await expect.poll(() => panel(page, 'traffic').locator('h3').innerText()).toBe('Requests per 2 h');
      for (const chart of ['traffic', 'performance', 'drift-trend']) {
        const [from, to] = (await panel(page, chart).getAttribute('data-window'))!.split('/').map(Number);
        expect(to! - from!, chart).toBeGreaterThanOrEqual(7 * 86_400_000);
      }
      expect(errors).toEqual([]);
    });
  });

  it('shows drift with its thresholds and history, and the predictions with their feedback and export', async (ctx) => {
    requireBrowser(ctx);
    await withPage(async (page, errors) => {
      await signIn(page);
      await open(page, `#/models/${name}/drift?window=1h`, `${name}/drift`);
      expect(await panel(page, 'drift').getAttribute('data-features')).toBe(FEATURES.join(','));
      expect(await panel(page, 'drift').getAttribute('data-lines')).toBe('PSI threshold 0.2,KS threshold 0.1');
      expect(await panel(page, 'drift-history').getAttribute('data-series')).toBe(FEATURES.join(','));
      expect(Number(await panel(page, 'drift-history').getAttribute('data-points'))).toBeGreaterThan(0);
      expect(await page.locator('[data-table="drift-features"] tr[data-row]').count()).toBe(4);
      expect(await page.locator('[data-table="drift-reports"] tr[data-row]').count()).toBeGreaterThan(0);

      await open(page, `#/models/${name}/predictions?window=1h`, `${name}/predictions`);
      const rows = page.locator('[data-table="predictions"] tr[data-row]');
      expect(await rows.count()).toBe(25);
      expect(await page.locator('[data-feedback="yes"]').count()).toBeGreaterThan(0);
      // Details on a click; an older page on another.
      await rows.first().click();
      await expect.poll(() => page.locator('tr.detail:not([hidden]) pre').first().innerText()).toContain('instances');
      await page.click('[data-more="predictions"]');
      await expect.poll(() => rows.count()).toBeGreaterThan(25);
      // The export downloads with the tab's token.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click(`[data-download="${name}-predictions.csv"]`),
      ]);
      const csv = readFileSync((await download.path())!, 'utf8')
        .trim()
        .split('\n');
      expect(csv[0]).toBe(`prediction_id,row,created_at,version,request_id,${FEATURES.join(',')},predicted,actual`);
      expect(csv.length).toBeGreaterThan(25);
      expect(errors).toEqual([]);
    });
  });

  it('lists the failing requests, the alert rules and their history, and the jobs', async (ctx) => {
    requireBrowser(ctx);
    await withPage(async (page, errors) => {
      await signIn(page);
      await open(page, `#/models/${name}/errors?window=1h`, `${name}/errors`);
      const failure = page.locator('[data-table="errors"] tr[data-row]').first();
      expect(await failure.innerText()).toMatch(/400[\s\S]*invalid_argument[\s\S]*petal_width[\s\S]*req_[0-9a-f]{32}/);

      await open(page, `#/models/${name}/alerts?window=1h`, `${name}/alerts`);
      const rules = page.locator('[data-table="alert-rules"] tr[data-row]');
      expect(await rules.count()).toBe(4);
      expect(await page.locator('[data-table="alert-rules"]').innerText()).toContain('error_rate > 0.1');

      await open(page, '#/jobs?window=1h', 'jobs');
      const job = page.locator(`[data-table="jobs"] tr[data-row]`, { hasText: name }).first();
      expect(await job.getAttribute('data-status')).toBe('partially_failed');
      expect(await job.innerText()).toMatch(/100\.0%[\s\S]*\/ 3 \/ 200[\s\S]*lacks feature 'sepal_width'/);
      await page.selectOption('#job-status', 'failed');
      await page.locator('#content[data-ready="jobs"]').waitFor();
      await expect.poll(() => page.evaluate('location.hash')).toContain('status=failed');

      await open(page, '#/alerts?window=1h', 'alerts');
      expect(await page.locator(`[data-table="alert-rules"] tr[data-row]`, { hasText: name }).count()).toBe(4);
      expect(errors).toEqual([]);
    });
  });

  it('fits a phone: one column, nothing wider than the screen but the tables, which scroll', async (ctx) => {
    requireBrowser(ctx);
    await withPage(async (page, errors) => {
      await signIn(page, { width: 390, height: 844 });
      const widest = await page.evaluate('document.documentElement.scrollWidth');
      expect(widest).toBeLessThanOrEqual(390);
      const boxes = await page
        .locator('.charts .panel')
        .evaluateAll((nodes: any[]) => nodes.map((n) => n.getBoundingClientRect().left));
      expect(new Set(boxes.map(Math.round)).size).toBe(1);
      await open(page, `#/models/${name}/predictions?window=1h`, `${name}/predictions`);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      expect(errors).toEqual([]);
    });
  });

  it('refuses a wrong token and shows nothing', async (ctx) => {
    requireBrowser(ctx);
    const { url } = inject('server');
    await withPage(async (page) => {
      await page.goto(`${url}/dashboard`);
      await page.fill('#token', 'not-a-token');
      await page.click('#signin button[type=submit]');
      await expect.poll(() => page.locator('#signin-error').innerText()).toBe('That credential was not accepted.');
      expect(await page.locator('#app').isHidden()).toBe(true);
    });
  });
});

/*
 * Issue 16, point 4: the scorecard of each split alias, and a line per route on its charts, with
 * real traffic through the aliases: one the guard rolls back (its candidate fails every
 * request), one ramping by steps, one promoted by hand.
 */
describe('the rollouts tab', () => {
  const rollName = `dash-roll-${randomUUID().slice(0, 8)}`;
  const served: Record<string, number[]> = {};

  beforeAll(async () => {
    const { url, adminKey } = inject('server');
    const api = apiClient(url, adminKey);
    const { name: _demo, ...fields } = DEMO;
    expect((await api('POST', '/v1/models', { name: rollName, ...fields })).status).toBe(201);
    for (const bytes of [buildDemoModel(), buildDemoModel({ hidden: 8, epochs: 300 }), fiveFeatureCandidate()]) {
      const up = await api('POST', `/v1/models/${rollName}/versions`, bytes, {
        'content-type': 'application/octet-stream',
      });
      expect(up.status, JSON.stringify(up.body)).toBe(201);
    }
    const set = async (alias: string, body: object) =>
      expect((await api('PUT', `/v1/models/${rollName}/aliases/${alias}`, body)).status).toBe(200);
    await set('production', {
      routes: [
        { version: 1, weight: 50 },
        { version: 3, weight: 50 },
      ],
      shadow: { version: 2, percent: 100 },
      guard: { min_requests: 10, max_error_rate: 0.1 },
    });
    await set('canary', {
      routes: [
        { version: 1, weight: 80 },
        { version: 2, weight: 20 },
      ],
      steps: [20, 60, 100],
      step_minutes: 30,
    });
    await set('beta', {
      routes: [
        { version: 1, weight: 50 },
        { version: 2, weight: 50 },
      ],
    });
    for (const alias of ['production', 'canary', 'beta']) {
      served[alias] = [];
      for (let i = 0; i < 40; i++) {
        const res = await api(
          'POST',
          `/v1/models/${rollName}/versions/${alias}/predict`,
          { instances: [{ sepal_length: 5 + (i % 10) / 10, sepal_width: 3.4, petal_length: 1.5, petal_width: 0.2 }] },
          { 'cache-control': 'no-store' },
        );
        served[alias]!.push(res.status === 200 ? res.body.model_version : 0);
      }
    }
    expect(served.production!.filter((v) => v === 0).length).toBeGreaterThanOrEqual(10);
    // The guard judges as counts are written, and on the cron: wait for it.
    const status = async () => (await api('GET', `/v1/models/${rollName}/aliases/production`)).body.state.status;
    for (let i = 0; i < 60 && (await status()) !== 'rolled_back'; i++) {
      await fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('* * * * *')}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(await status()).toBe('rolled_back');
    expect((await api('POST', `/v1/models/${rollName}/aliases/beta/promote`, {})).status).toBe(200);
  }, 180_000);

  it('shows each split alias’s scorecard and state, and draws each route’s line', async (ctx) => {
    requireBrowser(ctx);
    await withPage(async (page, errors) => {
      await signIn(page);
      await open(page, `#/models/${rollName}/rollouts?window=1h`, `${rollName}/rollouts`);
      const sections = page.locator('[data-rollout]');
      const statuses = Object.fromEntries(
        await sections.evaluateAll((nodes) =>
          nodes.map((n) => [(n as any).dataset.rollout, (n as any).dataset.status]),
        ),
      );
      expect(statuses).toEqual({ production: 'rolled_back', canary: 'ramping', beta: 'promoted' });

      // Rolled back by the guard: why, the scorecard per route and for the shadow, the verdict.
      const production = page.locator('[data-rollout="production"]');
      expect(await production.locator('[data-weights]').innerText()).toBe('v1 100% · v3 0%');
      expect(await production.locator('ul.notes').innerText()).toMatch(
        /Rolled back \d+ (s|min) ago by the guard: v3 \(route 1\) error rate 100\.0% > 10\.0%/,
      );
      const failed = served.production!.filter((v) => v === 0).length;
      const row = (r: string) => page.locator(`[data-table="scorecard-production"] tr[data-row="${r}"]`);
      expect(await row('route-0').locator('[data-cell="requests"]').innerText()).toBe(String(40 - failed));
      expect(await row('route-1').locator('[data-cell="requests"]').innerText()).toBe(String(failed));
      expect(await row('route-1').locator('[data-cell="error_rate"]').innerText()).toBe('100.0%');
      expect(await row('route-1').locator('[data-verdict]').first().getAttribute('data-verdict')).toBe('significant');
      expect(await row('route-1').locator('[data-verdict]').first().innerText()).toMatch(/^\+100\.0 pp\s+significant/);
      expect(await row('shadow').locator('[data-cell="requests"]').innerText()).toBe(String(40 - failed));
      expect(await row('shadow').locator('[data-cell="agreement"]').innerText()).toMatch(/^agree \d+\.\d%$/);

      // A line per route (the shadow dashed beside them), the guard's limit, the rollback marked.
      const chart = (id: string) => panel(page, `rollout-production-${id}`);
      expect(await chart('requests').getAttribute('data-series')).toBe('v1 (route 0),v3 (route 1),shadow v2');
      expect(await chart('errors').getAttribute('data-series')).toBe('v1 (route 0),v3 (route 1),shadow v2');
      expect(await chart('latency').getAttribute('data-series')).toBe('v1 (route 0),v3 (route 1)');
      for (const id of ['requests', 'errors', 'latency']) {
        expect(Number(await chart(id).getAttribute('data-points')), id).toBeGreaterThan(0);
        expect(await chart(id).locator('canvas').count(), id).toBe(1);
        expect(await chart(id).getAttribute('data-marks'), id).toBe('set,rolled back');
      }
      expect(await chart('errors').getAttribute('data-lines')).toBe('guard: error rate 10.0%');

      // Ramping by steps: the step it is at and the next one.
      const canary = page.locator('[data-rollout="canary"]');
      expect(await canary.locator('ul.notes').innerText()).toMatch(
        /Steps: 20 → 60 → 100% every 30 min, at 20% now; next 60% at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/,
      );
      const canaryRows = page.locator('[data-table="scorecard-canary"] tr[data-row]');
      expect(await canaryRows.count()).toBe(2);
      expect(await panel(page, 'rollout-canary-requests').getAttribute('data-series')).toBe(
        'v1 (route 0),v2 (route 1)',
      );

      // Promoted by hand: a plain alias now, its former routes' lines kept, the promotion marked.
      const beta = page.locator('[data-rollout="beta"]');
      expect(await beta.locator('ul.notes').innerText()).toMatch(
        /Promoted to v2 by hand \d+ (s|min) ago: a plain alias now/,
      );
      expect(await page.locator('[data-table="scorecard-beta"]').count()).toBe(0);
      expect(await panel(page, 'rollout-beta-requests').getAttribute('data-series')).toBe(
        'v1 (past route),v2 (past route)',
      );
      expect(await panel(page, 'rollout-beta-requests').getAttribute('data-marks')).toBe('set,promoted v2');
      expect(errors).toEqual([]);
    });
  });

  it('says so when no alias splits its traffic', async (ctx) => {
    requireBrowser(ctx);
    await withPage(async (page, errors) => {
      await signIn(page);
      await open(page, `#/models/${name}/rollouts?window=1h`, `${name}/rollouts`);
      expect(await panel(page, 'rollouts-none').innerText()).toContain(`modelflare aliases set ${name} production`);
      expect(errors).toEqual([]);
    });
  });
});

describe('npm run screenshots', () => {
  it('saves every view, and names a view that does not render', async (ctx) => {
    requireBrowser(ctx);
    const { url, adminKey } = inject('server');
    const out = join(ROOT, '.generated/screenshots');
    const written = await takeScreenshots({ base: url, token: adminKey, model: name, window: '1h', out });
    expect(written.map((p: string) => p.slice(out.length + 1))).toEqual(views(name, '1h').map((v: any) => v.file));
    for (const path of written) expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
    await expect(
      takeScreenshots({ base: url, token: adminKey, model: 'no-such-model', window: '1h', out }),
    ).rejects.toThrow(/the overview view says: Could not load this view: model 'no-such-model' not found/);
  });
});
