#!/usr/bin/env node
// `npm run screenshots`: pictures of every dashboard view of a running modelflare (npm start,
// ideally with `npm run traffic` going for a while), for the README. Headless Chromium
// (Debian's, as the tests use) signs in with the admin key and opens each view.
//
//   npm run screenshots -- [--model iris] [--window 1h] [--out scripts/dashboard/screenshots]
//
// The server is MODELFLARE_URL (default http://127.0.0.1:$PORT, PORT defaulting to 8787) and
// the credential MODELFLARE_TOKEN (default: ADMIN_API_KEY from .dev.vars).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { localTarget } from '../lib/local-target.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DESKTOP = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };

/** The views, as their address fragments and file names. */
export function views(model, window) {
  const m = encodeURIComponent(model);
  const q = `?window=${window}`;
  return [
    { file: 'overview.png', hash: `#/models/${m}/overview${q}`, ready: `${model}/overview` },
    { file: 'drift.png', hash: `#/models/${m}/drift${q}`, ready: `${model}/drift` },
    { file: 'predictions.png', hash: `#/models/${m}/predictions${q}`, ready: `${model}/predictions` },
    { file: 'errors.png', hash: `#/models/${m}/errors${q}`, ready: `${model}/errors` },
    { file: 'model-alerts.png', hash: `#/models/${m}/alerts${q}`, ready: `${model}/alerts` },
    { file: 'rollouts.png', hash: `#/models/${m}/rollouts${q}`, ready: `${model}/rollouts` },
    { file: 'jobs.png', hash: `#/jobs${q}`, ready: 'jobs' },
    { file: 'alerts.png', hash: `#/alerts${q}`, ready: 'alerts' },
    { file: 'phone.png', hash: `#/models/${m}/overview${q}`, ready: `${model}/overview`, viewport: PHONE },
  ];
}

/**
 * Signs in at `base` with `token` and saves each view under `out`; answers the files written.
 * Fails naming the view that did not render, and any error the page reported.
 */
export async function takeScreenshots({ base, token, model, window, out, log = () => {} }) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const written = [];
  try {
    const page = await browser.newPage({ viewport: DESKTOP, deviceScaleFactor: 1 });
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    try {
      await page.goto(`${base}/dashboard`);
    } catch {
      throw new Error(`nothing answers at ${base}: is npm start running?`);
    }
    await page.fill('#token', token);
    await page.click('#signin button[type=submit]');
    await page.locator('#content[data-ready]').waitFor({ timeout: 30_000 });
    for (const view of views(model, window)) {
      await page.setViewportSize(view.viewport ?? DESKTOP);
      // The page's own navigation: a fragment change, no reload (the token stays in the tab).
      await page.evaluate((hash) => {
        globalThis.location.hash = hash;
      }, view.hash);
      try {
        await page.locator(`#content[data-ready="${view.ready}"]`).waitFor({ timeout: 30_000 });
      } catch {
        throw new Error(
          `the ${view.file.replace('.png', '')} view did not render: ${errors.join('; ') || 'no error reported'}`,
        );
      }
      const error = await page
        .locator('#content [role=alert]')
        .first()
        .textContent({ timeout: 100 })
        .catch(() => null);
      if (error) throw new Error(`the ${view.file.replace('.png', '')} view says: ${error}`);
      const path = join(out, view.file);
      await page.screenshot({ path, fullPage: true });
      written.push(path);
      log(`wrote ${path}`);
    }
    if (errors.length > 0) throw new Error(`the page reported errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'iris' },
      window: { type: 'string', default: '1h' },
      out: { type: 'string', default: 'scripts/dashboard/screenshots' },
    },
  });
  try {
    const { base, token } = localTarget();
    if (!['1h', '6h', '24h', '7d', '30d'].includes(values.window))
      throw new Error('--window is 1h, 6h, 24h, 7d or 30d');
    await takeScreenshots({
      base,
      token,
      model: values.model,
      window: values.window,
      out: values.out,
      log: console.log,
    });
  } catch (err) {
    console.error(`screenshots: ${err.message}`);
    process.exitCode = 1;
  }
}
