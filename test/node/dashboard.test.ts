import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import { buildDemoModel, DEMO, rng } from '../../scripts/demo-model.mjs';
import { requireBrowser, withPage } from './browser';
import { ROOT } from './server';

/**
 * Every run saves its screenshot under .generated/ (ignored by git); with UPDATE_SCREENSHOTS=1 it
 * replaces the README's picture instead.
 */
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS
  ? join(ROOT, 'test/node/screenshots/dashboard.png')
  : join(ROOT, '.generated/screenshots/dashboard.png');
const FEATURES = DEMO.feature_names;

/** Traffic the charts can show: predictions (some drifted), cache hits, errors, feedback. */
async function seed(url: string, key: string, name: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${key}`, ...headers } };
    if (body instanceof Uint8Array) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    return fetch(`${url}${path}`, init);
  };
  const ok = async (res: Promise<Response>, status = 200) => {
    const r = await res;
    expect(r.status, await r.clone().text()).toBe(status);
    return r;
  };
  await ok(call('POST', '/v1/models', { ...DEMO, name, monitoring: { log_sample_rate: 1 } }), 201);
  await ok(
    call('POST', `/v1/models/${name}/versions`, buildDemoModel(), { 'content-type': 'application/octet-stream' }),
    201,
  );
  const r = rng(42);
  const record = (shift = 0) =>
    Object.fromEntries(
      FEATURES.map((f: string, k: number) => [f, Math.round((1 + r.uniform() * [6, 3, 6, 2.5][k]! + shift) * 10) / 10]),
    );
  await ok(
    call('PUT', `/v1/models/${name}/versions/1/baseline`, { rows: Array.from({ length: 300 }, () => record()) }),
  );
  for (let i = 0; i < 60; i++) {
    const res = await ok(
      call('POST', `/v1/models/${name}/predict`, { instances: [record(i >= 30 ? 1.5 : 0), record()] }),
    );
    const prediction = res.headers.get('x-prediction-id');
    const body = (await res.json()) as { predictions: { label: string }[] };
    if (prediction && i % 2 === 0) {
      const actual = body.predictions.map((p: { label: string }, k: number) =>
        k === 0 && i % 6 === 0 ? 'versicolor' : p.label,
      );
      await ok(call('POST', `/v1/predictions/${prediction}/feedback`, { actual }), 201);
    }
  }
  const same = { instances: [{ sepal_length: 5, sepal_width: 3.4, petal_length: 1.5, petal_width: 0.2 }] };
  for (let i = 0; i < 10; i++) await ok(call('POST', `/v1/models/${name}/predict`, same));
  for (let i = 0; i < 3; i++) await ok(call('POST', `/v1/models/${name}/predict`, { instances: [[1, 2]] }), 400);
  await ok(call('POST', `/v1/models/${name}/drift/check`));
}

it('shows a model’s traffic, latency, errors, cache, drift and performance as charts', async (ctx) => {
  requireBrowser(ctx);
  const { url, adminKey } = inject('server');
  const name = `dash-${randomUUID().slice(0, 8)}`;
  await seed(url, adminKey, name);

  await withPage(async (page, errors) => {
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(`${url}/dashboard`);
    await page.fill('#token', adminKey);
    await page.click('#signin button[type=submit]');
    await page.locator(`nav button[data-model="${name}"]`).click();
    await page.locator(`#content[data-ready="${name}"]`).waitFor();

    const cards = await page.locator('.card').allInnerTexts();
    expect(cards.find((c) => c.startsWith('requests'))).toContain('73');
    for (const chart of ['traffic', 'latency', 'errors', 'cache', 'drift', 'performance']) {
      const panel = page.locator(`[data-chart="${chart}"]`);
      expect(Number(await panel.getAttribute('data-points')), chart).toBeGreaterThan(0);
      expect(await panel.locator('canvas').count(), chart).toBe(1);
    }
    expect(await page.locator('#drift-status').innerText()).toBe('drifted');
    // One pair of bars per feature (uPlot draws on the canvas; the panel says what it drew).
    expect(await page.locator('[data-chart="drift"]').getAttribute('data-features')).toBe(FEATURES.join(','));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
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
