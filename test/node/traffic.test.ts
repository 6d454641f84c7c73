import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { apiClient } from '../../scripts/lib/api-client.mjs';
import { localTarget } from '../../scripts/lib/local-target.mjs';
import { DEMO_RULES, phaseAt, setUp } from '../../scripts/traffic.mjs';
import { requireBrowser } from './browser';
import { freePort, ROOT } from './server';

/*
 * Issue 17: a traffic generator to drive the dashboard, drift and alerts (npm run traffic),
 * and the screenshot script (npm run screenshots), as a user runs them.
 */

const run = (script: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('npm run traffic', () => {
  it('sets a model up once: a second version, baselines, logging and the alert rules', async () => {
    const { url, adminKey } = inject('server');
    const api = apiClient(url, adminKey);
    const name = `traffic-${randomUUID().slice(0, 8)}`;
    const first: string[] = [];
    await setUp(api, name, (line: string) => first.push(line));
    expect(first).toEqual([
      `uploaded ${name} version 1`,
      `uploaded ${name} version 2`,
      'set a drift baseline for version 1 (600 calm rows)',
      'set a drift baseline for version 2 (600 calm rows)',
      ...DEMO_RULES.map((r: { name: string }) => `created the alert rule "${r.name}"`),
    ]);
    const model = await api('GET', `/v1/models/${name}`);
    expect(model.body).toMatchObject({ aliases: { production: 1 }, monitoring: { log_sample_rate: 0.25 } });
    expect(model.body.monitoring.drift.window_hours).toBe(1);
    // Run again: nothing is missing, nothing is made twice.
    const second: string[] = [];
    await setUp(api, name, (line: string) => second.push(line));
    expect(second).toEqual([]);
    expect((await api('GET', `/v1/models/${name}/alerts`)).body.alerts).toHaveLength(DEMO_RULES.length);
  });

  it('cycles calm, incident, calm', () => {
    expect([0, 0.29, 0.3, 0.49, 0.5, 0.99].map(phaseAt)).toEqual([
      'calm',
      'calm',
      'incident',
      'incident',
      'after',
      'after',
    ]);
  });

  it('says what is wrong with its options, its credential or the server', async () => {
    const bad = run('scripts/traffic.mjs', ['--rate', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--rate is a number from 1 to 100; not "0"');
    const port = await freePort();
    const nobody = run('scripts/traffic.mjs', ['--minutes', '0.1'], {
      MODELFLARE_URL: `http://127.0.0.1:${port}`,
      MODELFLARE_TOKEN: 'mf_admin_whatever',
    });
    expect(nobody.status).toBe(1);
    expect(nobody.stderr).toContain('traffic: nothing answers there: is npm start running?');
    expect(() => localTarget({ PORT: '9999' }, join(ROOT, 'no-such.dev.vars'))).toThrow(
      /no credential: set MODELFLARE_TOKEN/,
    );
    expect(localTarget({ PORT: '9999', MODELFLARE_TOKEN: 't' })).toEqual({ base: 'http://127.0.0.1:9999', token: 't' });
  });
});

describe('npm run screenshots', () => {
  it('refuses a window it does not offer and a server that does not answer', async (ctx) => {
    requireBrowser(ctx);
    const wrong = run('scripts/dashboard/screenshots.mjs', ['--window', '2h'], { MODELFLARE_TOKEN: 't' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('screenshots: --window is 1h, 6h, 24h, 7d or 30d');
    const port = await freePort();
    const nobody = run('scripts/dashboard/screenshots.mjs', ['--out', join(ROOT, '.generated/none')], {
      MODELFLARE_URL: `http://127.0.0.1:${port}`,
      MODELFLARE_TOKEN: 't',
    });
    expect(nobody.status).toBe(1);
    expect(nobody.stderr).toContain(`screenshots: nothing answers at http://127.0.0.1:${port}: is npm start running?`);
  });
});
