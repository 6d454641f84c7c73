import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { takeScreenshots, views } from '../../scripts/dashboard/screenshots.mjs';
import { DEMO } from '../../scripts/demo-model.mjs';
import { apiClient } from '../../scripts/lib/api-client.mjs';
import { runTraffic, setUp } from '../../scripts/traffic.mjs';
import { requireBrowser, withPage } from './browser';
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
