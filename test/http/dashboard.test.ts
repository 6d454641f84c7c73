import { describe, expect, it } from 'vitest';
import { call } from '../helpers';

describe('dashboard', () => {
  it('serves a page whose scripts and styles all come from the worker', async () => {
    const page = await call('GET', '/dashboard', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.sort()).toEqual(['/dashboard/app.js', '/dashboard/uplot.css', '/dashboard/uplot.js']);
    for (const asset of assets) {
      const res = await call('GET', asset, { token: null });
      expect(res.status, asset).toBe(200);
      expect((await res.text()).length, asset).toBeGreaterThan(1000);
    }
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('the page holds no data: everything comes from the API with the user’s token', async () => {
    const js = await (await call('GET', '/dashboard/app.js', { token: null })).text();
    expect(js).toContain("'/v1/models?limit=100'");
    expect(js).toContain('/stats?window=');
    expect(js).toContain('/drift');
    expect(js).toContain('/performance?window=');
    for (const path of [
      '&by=version',
      '/drift/history?window=',
      '/errors',
      '/alerts',
      '/alert-events',
      '/v1/jobs',
      '/predictions/export',
      '/scorecard',
      '/series',
    ])
      expect(js).toContain(path);
  });
});
