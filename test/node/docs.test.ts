import { expect, inject, it } from 'vitest';
import { requireBrowser, withPage } from './browser';

it('renders every operation of the OpenAPI document in Swagger UI, with examples', async (ctx) => {
  requireBrowser(ctx);
  const { url } = inject('server');
  const doc: any = await (await fetch(`${url}/openapi.json`)).json();
  const operations = Object.values(doc.paths).flatMap((item: any) => Object.keys(item));

  await withPage(async (page, errors) => {
    await page.goto(`${url}/docs`);
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.info .title').innerText()).toContain('modelflare');
    expect(await page.locator('.opblock').count()).toBe(operations.length);
    for (const path of ['/v2/models/{model}/infer', '/v1/models/{name}/versions', '/v1/jobs']) {
      expect(await page.locator(`.opblock-summary-path[data-path="${path}"]`).count(), path).toBeGreaterThan(0);
    }

    // Opening an operation shows its description and the request example.
    const infer = page.locator('.opblock-post', { has: page.locator('[data-path="/v2/models/{model}/infer"]') });
    await infer.locator('.opblock-summary').click();
    await infer.locator('.opblock-body').waitFor();
    const body = await infer.locator('.opblock-body').innerText();
    expect(body).toContain('Open Inference Protocol');
    // With "try it out" on, the request example sits in an editable text area.
    expect(await infer.locator('textarea.body-param__text').inputValue()).toContain('"features"');
    if (process.env.DOCS_SCREENSHOT) await page.screenshot({ path: process.env.DOCS_SCREENSHOT, fullPage: false });

    expect(errors).toEqual([]);
  });
});
