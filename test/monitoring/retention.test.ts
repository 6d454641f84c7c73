import { env } from 'cloudflare:test';
import { expect, it } from 'vitest';
import { configFrom } from '../../workers/core/config';
import { applyRetention } from '../../workers/monitoring/retention';
import { database } from '../../workers/storage/db';

it('deletes minute rollups, logged predictions, drift bins, failed requests and alert history past their retention, and keeps totals', async () => {
  const now = Date.UTC(2026, 10, 26);
  const day = 86_400_000;
  const old = now - 40 * day;
  const recent = now - day;
  const db = env.DB;
  await db.batch([
    db
      .prepare(
        "insert into metric_rollups (workspace_id, model, version, minute, requests) values ('ws_r', 'm', 1, ?, 1), ('ws_r', 'm', 1, ?, 2)",
      )
      .bind(Math.floor(old / 60000), Math.floor(recent / 60000)),
    db.prepare("insert into metric_totals (workspace_id, model, version, requests) values ('ws_r', 'm', 1, 3)"),
    db
      .prepare(
        "insert into prediction_logs (id, workspace_id, model, version, request_id, inputs, outputs, rows, cache, created_at) values ('prd_old', 'ws_r', 'm', 1, 'r', '{}', '[]', 1, 'MISS', ?), ('prd_new', 'ws_r', 'm', 1, 'r', '{}', '[]', 1, 'MISS', ?)",
      )
      .bind(old, recent),
    db
      .prepare(
        "insert into prediction_feedback (prediction_id, row, workspace_id, model, version, actual, predicted_at, created_at) values ('prd_old', 0, 'ws_r', 'm', 1, '1', ?, ?)",
      )
      .bind(old, old),
    db
      .prepare(
        "insert into drift_bins (version_id, hour, feature, bin, count) values ('ver_r', ?, 0, 0, 5), ('ver_r', ?, 0, 0, 7)",
      )
      .bind(Math.floor(old / 3_600_000), Math.floor(recent / 3_600_000)),
    db
      .prepare(
        "insert into request_failures (id, workspace_id, request_id, method, status, code, message, created_at) values ('rqf_old', 'ws_r', 'r', 'GET', 400, 'invalid_argument', 'old', ?), ('rqf_new', 'ws_r', 'r', 'GET', 400, 'invalid_argument', 'new', ?)",
      )
      .bind(old, recent),
    db
      .prepare(
        "insert into alert_events (rule_id, workspace_id, model, name, kind, metric, condition, threshold, samples, created_at) values ('alr_r', 'ws_r', 'm', 'r', 'fired', 'mae', 'above', 1, 5, ?), ('alr_r', 'ws_r', 'm', 'r', 'resolved', 'mae', 'above', 1, 5, ?)",
      )
      .bind(old, recent),
  ]);
  await applyRetention(database(env.DB), configFrom(env), now);
  const count = async (sql: string) => (await db.prepare(sql).first<{ n: number }>())!.n;
  expect(await count("select count(*) as n from metric_rollups where workspace_id = 'ws_r'")).toBe(1);
  expect(await count("select requests as n from metric_totals where workspace_id = 'ws_r'")).toBe(3);
  expect(await count("select count(*) as n from prediction_logs where workspace_id = 'ws_r'")).toBe(1);
  expect(await count("select count(*) as n from prediction_feedback where workspace_id = 'ws_r'")).toBe(0);
  expect(await count("select sum(count) as n from drift_bins where version_id = 'ver_r'")).toBe(7);
  expect(
    await count("select count(*) as n from request_failures where workspace_id = 'ws_r' and message = 'new'"),
  ).toBe(1);
  expect(await count("select count(*) as n from request_failures where workspace_id = 'ws_r'")).toBe(1);
  expect(await count("select count(*) as n from alert_events where workspace_id = 'ws_r' and kind = 'resolved'")).toBe(
    1,
  );
  expect(await count("select count(*) as n from alert_events where workspace_id = 'ws_r'")).toBe(1);
});
