/*
 * Headless Chromium (Debian's, installed by scripts/ensure-chromium.mjs) driven by
 * playwright-core, for tests of pages the worker serves.
 */
import { existsSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import type { TestContext } from 'vitest';
import { requireTool } from './required-tool';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Without a browser: fails under CI=true, else skips saying why (never a silent pass). */
export function requireBrowser(ctx: TestContext): void {
  requireTool(ctx, existsSync(CHROMIUM), `${CHROMIUM} is missing: npm test installs it with apt-get when run as root`);
}

/**
 * Opens a page in a fresh browser, hands it over with the errors the page reports (console
 * errors, uncaught exceptions, failed requests and error answers), and closes the browser whatever happens.
 */
export async function withPage<T>(use: (page: Page, errors: string[]) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The machine has no network: background traffic would only fail.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    // Failed loads are reported with their URL below, not by the console's generic line.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        errors.push(`console: ${message.text()}`);
      }
    });
    page.on('response', (response) => {
      // Browsers ask every site for an icon; the worker has none to give.
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
        errors.push(`response: ${response.status()} ${response.url()}`);
      }
    });
    page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
    page.on('requestfailed', (request) => errors.push(`request: ${request.url()} ${request.failure()?.errorText}`));
    return await use(page, errors);
  } finally {
    await browser.close();
  }
}
