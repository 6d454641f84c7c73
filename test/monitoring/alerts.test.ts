import { createExecutionContext, createScheduledController, env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../workers/index';
import { evaluateAllAlerts, evaluateRule } from '../../workers/monitoring/alerts/evaluate';
import { MAX_RULES_PER_MODEL } from '../../workers/monitoring/alerts/rules';
import { alertRules } from '../../workers/storage/schema';
import { eq } from 'drizzle-orm';
import { call, callJson, createKey, depsFor, fixture, registerUser, uniqueName, uploadRaw } from '../helpers';
import { captureWebhookQueue, deliveredEvents, drain } from '../batch/queue-driver';

/*
 * Issue 17, point 4: alert rules per model (error rate, p99 latency, drift, accuracy or MAE),
 * over a window with a minimum sample, evaluated on the cron, announced by alert.fired and
 * alert.resolved through the webhooks.
 */

afterEach(async () => {
  vi.restoreAllMocks();
  for (const hook of (await callJson('GET', '/v1/webhooks', 200)).webhooks)
    await call('DELETE', `/v1/webhooks/${hook.id}`);
});

async function regressor(options: { task?: string; logAll?: boolean } = {}): Promise<string> {
  const name = uniqueName('alerts');
  await callJson('POST', '/v1/models', 201, {
    body: {
      name,
      task: options.task ?? 'regression',
      feature_names: ['a', 'b'],
      ...(options.logAll && { monitoring: { log_sample_rate: 1 } }),
    },
  });
  expect((await uploadRaw(name, fixture('generated/regressor.onnx'))).status).toBe(201);
  return name;
}

const ok = (name: string, n: number) =>
  Promise.all(
    Array.from({ length: n }, async (_, i) =>
      expect((await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[i, 1]] } })).status).toBe(200),
    ),
  );
const failing = (name: string, n: number) =>
  Promise.all(
    Array.from({ length: n }, async () =>
      expect((await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[1]] } })).status).toBe(400),
    ),
  );

const rule = (name: string, id: string) => callJson('GET', `/v1/models/${name}/alerts/${id}`, 200);

async function cron(at = Date.now()) {
  await worker.scheduled(
    createScheduledController({ cron: '*/5 * * * *', scheduledTime: at }),
    env,
    createExecutionContext(),
  );
}

describe('alert rules', () => {
  it('are created with the metric’s defaults, listed, changed and deleted, each change audited', async () => {
    const name = await regressor();
    const res = await call('POST', `/v1/models/${name}/alerts`, { body: { metric: 'error_rate', threshold: 0.05 } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as any;
    expect(res.headers.get('location')).toBe(`/v1/models/${name}/alerts/${created.id}`);
    expect(created).toMatchObject({
      model: name,
      name: 'error_rate above 0.05',
      metric: 'error_rate',
      condition: 'above',
      threshold: 0.05,
      window: '15m',
      window_minutes: 15,
      min_samples: 50,
      version: null,
      enabled: true,
      state: 'ok',
      last_evaluation: null,
      fired_at: null,
    });
    const quality = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
      body: { name: 'mae', metric: 'mae', threshold: 2, window: '2d', min_samples: 10, version: 'production' },
    });
    expect(quality).toMatchObject({ condition: 'above', window: '2d', window_minutes: 2880, version: 'production' });

    const list = await callJson('GET', `/v1/models/${name}/alerts`, 200);
    expect(list.alerts.map((a: any) => a.id)).toEqual([created.id, quality.id]);
    expect(await rule(name, created.id)).toEqual(created);

    const changed = await callJson('PATCH', `/v1/models/${name}/alerts/${created.id}`, 200, {
      body: { metric: 'latency_p99_ms', threshold: 250, window: '1h' },
    });
    expect(changed).toMatchObject({ metric: 'latency_p99_ms', condition: 'above', threshold: 250, window: '1h' });
    const renamed = await callJson('PATCH', `/v1/models/${name}/alerts/${created.id}`, 200, {
      body: { name: 'slow', enabled: false },
    });
    expect(renamed).toMatchObject({ name: 'slow', enabled: false, metric: 'latency_p99_ms' });

    expect((await call('DELETE', `/v1/models/${name}/alerts/${created.id}`)).status).toBe(204);
    expect((await callJson('GET', `/v1/models/${name}/alerts/${created.id}`, 404)).error.code).toBe('alert_not_found');
    expect((await callJson('DELETE', `/v1/models/${name}/alerts/${created.id}`, 404)).error.code).toBe(
      'alert_not_found',
    );
    const audit = await callJson('GET', '/v1/audit-log?limit=10', 200);
    const actions = audit.entries
      .filter((e: any) => e.target === `model:${name}/alert:${created.id}`)
      .map((e: any) => e.action);
    expect(actions).toEqual(['alert.delete', 'alert.update', 'alert.update', 'alert.create']);
  });

  it('refuse what cannot be measured or makes no sense, naming the field, and store nothing', async () => {
    const name = await regressor();
    const refused = async (body: unknown, pattern: RegExp, status = 400) => {
      const answer = await callJson('POST', `/v1/models/${name}/alerts`, status, { body: body as object });
      expect(answer.error.message).toMatch(pattern);
    };
    await refused({ metric: 'error_rate', threshold: 2 }, /'threshold': error_rate thresholds are 0 to 1/);
    await refused({ metric: 'drift_ks', threshold: -0.1 }, /drift_ks thresholds are 0 to 1/);
    await refused({ metric: 'accuracy', threshold: 0.9 }, /is a regressor: alert on 'mae', not 'accuracy'/);
    await refused({ metric: 'cpu', threshold: 1 }, /metric/);
    await refused({ metric: 'error_rate' }, /threshold/);
    await refused({ metric: 'error_rate', threshold: 0.1, window: '31d' }, /window must be 1m to 30d/);
    await refused({ metric: 'error_rate', threshold: 0.1, min_samples: 0 }, /min_samples/);
    await refused({ metric: 'error_rate', threshold: 0.1, severity: 'high' }, /severity/);
    await refused({ metric: 'error_rate', threshold: 0.1, version: 'Not An Alias!' }, /invalid version/);
    expect((await callJson('GET', `/v1/models/${name}/alerts`, 200)).alerts).toEqual([]);

    const clf = await regressor({ task: 'classification' });
    expect(
      (await callJson('POST', `/v1/models/${clf}/alerts`, 400, { body: { metric: 'mae', threshold: 1 } })).error
        .message,
    ).toMatch(/is a classifier: alert on 'accuracy', not 'mae'/);

    const made = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
      body: { metric: 'error_rate', threshold: 0.1 },
    });
    expect((await callJson('PATCH', `/v1/models/${name}/alerts/${made.id}`, 400, { body: {} })).error.message).toMatch(
      /at least one field/,
    );
    expect(
      (await callJson('PATCH', `/v1/models/${name}/alerts/${made.id}`, 400, { body: { threshold: 7 } })).error.message,
    ).toMatch(/error_rate thresholds are 0 to 1/);
    expect((await rule(name, made.id)).threshold).toBe(0.1);
    expect((await callJson('GET', `/v1/models/${name}/alerts/not-an-id`, 400)).error.message).toMatch(/alr_/);
    expect(
      (
        await callJson('POST', `/v1/models/no-such-model/alerts`, 404, {
          body: { metric: 'error_rate', threshold: 0.1 },
        })
      ).error.code,
    ).toBe('model_not_found');
  });

  it(`are at most ${MAX_RULES_PER_MODEL} per model`, async () => {
    const name = await regressor();
    const values = Array.from(
      { length: MAX_RULES_PER_MODEL },
      (_, i) =>
        `('alr_many_${name.replace(/-/g, '')}_${i}', 'ws_default', '${name}', 'r${i}', 'error_rate', 'above', 0.5, 15, 50, 'test', 0, 0)`,
    );
    await env.DB.prepare(
      `insert into alert_rules (id, workspace_id, model, name, metric, condition, threshold, window_minutes, min_samples, created_by, created_at, updated_at) values ${values.join(', ')}`,
    ).run();
    const full = await callJson('POST', `/v1/models/${name}/alerts`, 409, {
      body: { metric: 'error_rate', threshold: 0.1 },
    });
    expect(full.error).toMatchObject({ code: 'alert_limit_reached' });
    expect(full.error.message).toMatch(/has 50 alert rules, the most it may have; delete one first/);
  });

  it('belong to their workspace: others get 404, readers read, writers write', async () => {
    const owner = await registerUser('alerts-owner');
    const as = { token: owner.token };
    expect((await uploadRaw('guarded', fixture('generated/regressor.onnx'), as)).status).toBe(201);
    const made = await callJson('POST', '/v1/models/guarded/alerts', 201, {
      ...as,
      body: { metric: 'error_rate', threshold: 0.1 },
    });
    const stranger = { token: (await registerUser('alerts-stranger')).token };
    expect((await callJson('GET', '/v1/models/guarded/alerts', 404, stranger)).error.code).toBe('model_not_found');
    expect((await callJson('GET', `/v1/models/guarded/alerts/${made.id}`, 404, stranger)).error.code).toBe(
      'alert_not_found',
    );
    expect((await callJson('DELETE', `/v1/models/guarded/alerts/${made.id}`, 404, stranger)).error.code).toBe(
      'alert_not_found',
    );
    expect((await callJson('GET', '/v1/alerts', 200, stranger)).alerts).toEqual([]);
    expect((await callJson('GET', `/v1/models/guarded/alert-events`, 404, stranger)).error.code).toBe(
      'model_not_found',
    );

    const reader = { token: (await createKey(['models:read'], as)).key };
    expect((await callJson('GET', '/v1/models/guarded/alerts', 200, reader)).alerts).toHaveLength(1);
    expect((await callJson('GET', '/v1/alerts', 200, reader)).alerts.map((a: any) => a.id)).toEqual([made.id]);
    expect(
      (await callJson('POST', '/v1/models/guarded/alerts', 403, { ...reader, body: { metric: 'mae', threshold: 1 } }))
        .error.code,
    ).toBe('permission_denied');
    expect((await callJson('DELETE', `/v1/models/guarded/alerts/${made.id}`, 403, reader)).error.code).toBe(
      'permission_denied',
    );
    expect((await call('GET', '/v1/alerts', { token: null })).status).toBe(401);
  });
});

describe('alert evaluation', () => {
  // Five cron runs, each doing every chore.
  it(
    'fires and resolves on the cron, with a minimum sample, announced once each through the webhooks',
    { timeout: 60_000 },
    async () => {
      const name = await regressor();
      const hook = await callJson('POST', '/v1/webhooks', 201, {
        body: { url: 'http://127.0.0.1:9/alerts', events: ['alert.fired', 'alert.resolved'] },
      });
      const made = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
        body: { name: 'errors', metric: 'error_rate', threshold: 0.5, window: '15m', min_samples: 6 },
      });
      const webhooks = captureWebhookQueue();

      // 4 failures of 4 requests: past the threshold, but fewer than 6 samples. Nothing changes.
      await failing(name, 4);
      await cron();
      expect(await rule(name, made.id)).toMatchObject({
        state: 'ok',
        last_evaluation: { value: 1, samples: 4 },
      });
      // 6 of 6: it fires.
      await failing(name, 2);
      await cron();
      const fired = await rule(name, made.id);
      expect(fired).toMatchObject({ state: 'firing', last_evaluation: { value: 1, samples: 6 } });
      expect(fired.fired_at).toBe(fired.last_evaluation.at);
      // Still failing: still firing, no second event.
      await cron();
      expect((await rule(name, made.id)).state).toBe('firing');
      // 6 failures of 14: 0.43, back under the threshold: resolved.
      await ok(name, 8);
      await cron();
      expect(await rule(name, made.id)).toMatchObject({
        state: 'ok',
        fired_at: null,
        last_evaluation: { samples: 14 },
      });

      const sent = drain(webhooks);
      expect(sent).toHaveLength(2);
      const events = await deliveredEvents(sent, hook.secret);
      expect(events.map((e) => e.type).sort()).toEqual(['alert.fired', 'alert.resolved']);
      const firedEvent = events.find((e) => e.type === 'alert.fired');
      const resolvedEvent = events.find((e) => e.type === 'alert.resolved');
      expect(firedEvent.data).toMatchObject({
        alert: { id: made.id, name: 'errors' },
        model: name,
        metric: 'error_rate',
        condition: 'above',
        threshold: 0.5,
        value: 1,
        samples: 6,
        window_minutes: 15,
        fired_at: fired.fired_at,
      });
      expect(resolvedEvent.data).toMatchObject({ alert: { id: made.id }, samples: 14, fired_at: fired.fired_at });
      expect(resolvedEvent.data.value).toBeCloseTo(6 / 14, 9);
      expect(Date.parse(resolvedEvent.data.resolved_at)).toBeGreaterThan(Date.parse(fired.fired_at));

      const history = await callJson('GET', `/v1/models/${name}/alert-events`, 200);
      expect(history.events.map((e: any) => [e.kind, e.alert_id, e.samples])).toEqual([
        ['resolved', made.id, 14],
        ['fired', made.id, 6],
      ]);
      const page = await callJson('GET', `/v1/models/${name}/alert-events?limit=1`, 200);
      expect(page.events[0].kind).toBe('resolved');
      const rest = await callJson('GET', `/v1/models/${name}/alert-events?limit=1&cursor=${page.next_cursor}`, 200);
      expect(rest.events[0].kind).toBe('fired');
      expect(rest.next_cursor).toBeNull();
      expect((await callJson('GET', `/v1/models/${name}/alert-events?alert=alr_other`, 200)).events).toEqual([]);
      expect((await callJson('GET', `/v1/models/${name}/alert-events?cursor=x`, 400)).error.code).toBe(
        'invalid_cursor',
      );
      // The history stays when the rule goes.
      await call('DELETE', `/v1/models/${name}/alerts/${made.id}`);
      expect((await callJson('GET', `/v1/models/${name}/alert-events?window=1h`, 200)).events).toHaveLength(2);
    },
  );

  it('announces a change once when two runs overlap, and skips disabled rules', async () => {
    const name = await regressor();
    const made = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
      body: { metric: 'error_rate', threshold: 0.5, min_samples: 2 },
    });
    await failing(name, 2);
    const deps = depsFor();
    const [row] = await deps.db.select().from(alertRules).where(eq(alertRules.id, made.id));
    // Both runs read the rule while it was ok; only one may announce.
    expect(await evaluateRule(deps, row!)).toBe('fired');
    expect(await evaluateRule(deps, row!)).toBe('unchanged');
    expect((await callJson('GET', `/v1/models/${name}/alert-events`, 200)).events).toHaveLength(1);

    // Disabling clears the state quietly; a disabled rule is not evaluated.
    expect(
      await callJson('PATCH', `/v1/models/${name}/alerts/${made.id}`, 200, { body: { enabled: false } }),
    ).toMatchObject({ enabled: false, state: 'ok', fired_at: null });
    const before = (await rule(name, made.id)).last_evaluation;
    await evaluateAllAlerts(deps);
    expect((await rule(name, made.id)).last_evaluation).toEqual(before);
    expect((await callJson('GET', `/v1/alerts?state=firing`, 200)).alerts.map((a: any) => a.id)).not.toContain(made.id);
  });

  it(
    'measures p99 latency, drift and MAE; a version that does not exist measures nothing',
    { timeout: 30_000 },
    async () => {
      const name = await regressor({ logAll: true });
      // Latency: every p99 is below an hour.
      const slow = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
        body: { metric: 'latency_p99_ms', condition: 'below', threshold: 3_600_000, min_samples: 1 },
      });
      // Drift: a shifted sample against a baseline.
      const drift = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
        body: { metric: 'drift_psi', threshold: 0.2, min_samples: 100 },
      });
      // MAE from feedback: every true value one off.
      const mae = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
        body: { metric: 'mae', threshold: 0.5, min_samples: 150 },
      });
      const nowhere = await callJson('POST', `/v1/models/${name}/alerts`, 201, {
        body: { metric: 'error_rate', threshold: 0, version: 'canary', min_samples: 1 },
      });
      const baseline = Array.from({ length: 200 }, (_, i) => [(i % 20) / 2, (i % 7) - 3]);
      await callJson('PUT', `/v1/models/${name}/versions/1/baseline`, 200, { body: { rows: baseline } });
      const live = baseline.slice(0, 150).map(([a, b]) => [a! + 4, b!]);
      const res = await call('POST', `/v2/models/${name}/infer`, {
        body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [150, 2], data: live }] },
      });
      expect(res.status).toBe(200);
      const id = res.headers.get('x-prediction-id')!;
      let logged: any;
      for (let i = 0; i < 100; i++) {
        const r = await call('GET', `/v1/predictions/${id}`);
        if (r.ok) {
          logged = await r.json();
          break;
        }
        await new Promise((done) => setTimeout(done, 10));
      }
      await callJson('POST', `/v1/predictions/${id}/feedback`, 201, {
        body: { actual: logged.predicted.map((y: number) => y + 1) },
      });
      // The drift counts land after the response: wait for them before the cron's report.
      for (let i = 0; i < 100; i++) {
        if ((await callJson('POST', `/v1/models/${name}/drift/check`, 200)).rows >= 150) break;
        await new Promise((done) => setTimeout(done, 10));
      }
      // Under its minimum sample (150 rows) the drift rule waits; the MAE rule has 150 rows.
      await cron();
      expect(await rule(name, slow.id)).toMatchObject({ state: 'firing', last_evaluation: { samples: 1 } });
      const driftRule = await rule(name, drift.id);
      expect(driftRule).toMatchObject({ state: 'firing', last_evaluation: { samples: 150 } });
      expect(driftRule.last_evaluation.value).toBeGreaterThan(1);
      const maeRule = await rule(name, mae.id);
      expect(maeRule).toMatchObject({ state: 'firing', last_evaluation: { samples: 150 } });
      expect(maeRule.last_evaluation.value).toBeCloseTo(1, 5);
      expect(await rule(name, nowhere.id)).toMatchObject({ state: 'ok', last_evaluation: { value: null, samples: 0 } });
      const firing = await callJson('GET', '/v1/alerts?state=firing&limit=100', 200);
      expect(
        firing.alerts
          .filter((a: any) => a.model === name)
          .map((a: any) => a.metric)
          .sort(),
      ).toEqual(['drift_psi', 'latency_p99_ms', 'mae']);
    },
  );
});
