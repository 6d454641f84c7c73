import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { database } from '../../workers/storage/db';
import { createLogger } from '../../workers/core/logger';
import { UNNAMED } from '../../workers/storage/outage';
import { repairArtifacts } from '../../workers/registry/repair';
import { callJson, fixture, infer, uniqueName, uploadRaw } from '../helpers';
import { scheduledWith, sendJson } from './drive';
import { faultyEnv, type Faults } from './faulty-env';
import { reportFaults } from './report';

/*
 * An upload that fails at any step leaves nothing behind: no model row made for it, no version
 * row, no file in R2; where even the cleanup fails, the repair pass removes the file.
 */

const REGRESSOR = fixture('generated/regressor.onnx');
const REGRESSOR2 = fixture('generated/regressor2.onnx');
const INSERT_VERSION = (sql: string) => sql.includes('insert into "model_versions"');
const GRACE_SECONDS = 900;

/** The R2 keys the upload wrote (or tried to write). */
const keysPut = (faults: Faults) => (faults.log.get('BUCKET.put') ?? []).map((args) => (args as [string])[0]);

async function rowsFor(name: string) {
  const models = await env.DB.prepare('select id from models where name = ?').bind(name).all();
  const versions = await env.DB.prepare(
    'select v.id from model_versions v join models m on m.id = v.model_id where m.name = ?',
  )
    .bind(name)
    .all();
  return { models: models.results.length, versions: versions.results.length };
}

function expectOutage(res: { status: number; headers: Headers; body: any }, store: string) {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.body.error).toMatchObject({ code: 'storage_unavailable' });
  expect(res.body.error.message).toContain(`(${store})`);
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|Failed query/);
}

reportFaults('upload');

describe('an upload that fails', () => {
  it('when R2 refuses the file: 503, and no model, version or file', async () => {
    const name = uniqueName('r2down');
    const faults = faultyEnv().add({ binding: 'BUCKET', method: 'put' });
    const res = await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, { body: REGRESSOR });
    // Once R2's object is gone workerd's error does not name the store (storage/outage.ts).
    expectOutage(res, UNNAMED);
    expect(faults.faultsOn('BUCKET', 'put')).toBe(1);
    expect(faults.count('DB', 'batch')).toBe(0);
    expect(await rowsFor(name)).toEqual({ models: 0, versions: 0 });
    for (const key of keysPut(faults)) expect(await env.BUCKET.head(key)).toBeNull();
    await callJson('GET', `/v1/models/${name}`, 404);
  });

  it('when R2 refuses the serving graph after taking the file: 503, and the file is removed', async () => {
    const name = uniqueName('r2serving');
    const faults = faultyEnv().add({
      binding: 'BUCKET',
      method: 'put',
      when: (args: unknown[]) => String(args[0]).endsWith('.serving.onnx'),
    });
    const res = await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, {
      body: fixture('generated/import_zipmap_int64.onnx'),
    });
    expectOutage(res, UNNAMED);
    const [artifact, serving] = keysPut(faults);
    expect(artifact).toMatch(/^artifacts\/.*[^g]\.onnx$/);
    expect(serving).toMatch(/^artifacts\/.*\.serving\.onnx$/);
    expect(faults.faultsOn('BUCKET', 'put')).toBe(1);
    expect(faults.count('DB', 'batch')).toBe(0);
    for (const key of [artifact!, serving!]) expect(await env.BUCKET.head(key)).toBeNull();
    expect(await rowsFor(name)).toEqual({ models: 0, versions: 0 });
  });

  it('when D1 refuses a rewritten version after R2 took both files: 503, and both are removed', async () => {
    const name = uniqueName('d1serving');
    const faults = faultyEnv().add({ binding: 'DB', method: 'batch', when: INSERT_VERSION });
    const res = await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, {
      body: fixture('generated/import_gru_batchwise.onnx'),
    });
    expectOutage(res, 'D1');
    const keys = keysPut(faults);
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(await env.BUCKET.head(key)).toBeNull();
    expect(await rowsFor(name)).toEqual({ models: 0, versions: 0 });
  });

  it('when D1 refuses the version row after R2 took the file: 503, and the file is removed', async () => {
    const name = uniqueName('d1down');
    const faults = faultyEnv().add({ binding: 'DB', method: 'batch', when: INSERT_VERSION });
    const res = await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, { body: REGRESSOR });
    expectOutage(res, 'D1');
    expect(faults.faultsOn('DB', 'batch')).toBe(1);
    const [key] = keysPut(faults);
    expect(key).toMatch(/^artifacts\//);
    expect(faults.count('BUCKET', 'delete')).toBe(1);
    expect(await env.BUCKET.head(key!)).toBeNull();
    expect(await rowsFor(name)).toEqual({ models: 0, versions: 0 });
  });

  it('of a second version keeps the model and its first version, and the retry is numbered 2', async () => {
    const name = uniqueName('d1down2');
    expect((await uploadRaw(name, REGRESSOR)).status).toBe(201);
    const faults = faultyEnv().add({ binding: 'DB', method: 'batch', when: INSERT_VERSION });
    expectOutage(await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, { body: REGRESSOR2 }), 'D1');
    expect(await env.BUCKET.head(keysPut(faults)[0]!)).toBeNull();
    expect(await rowsFor(name)).toEqual({ models: 1, versions: 1 });
    faults.heal();
    const retried = await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, { body: REGRESSOR2 });
    expect(retried.status).toBe(201);
    expect(retried.body.version).toBe(2);
  });

  it('when the cleanup fails too: 503 naming D1, and the repair pass removes the orphan file only when old', async () => {
    const live = uniqueName('live');
    expect((await uploadRaw(live, REGRESSOR)).status).toBe(201);
    const name = uniqueName('orphan');
    const faults = faultyEnv().add(
      { binding: 'DB', method: 'batch', when: INSERT_VERSION },
      { binding: 'BUCKET', method: 'delete' },
    );
    const res = await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, { body: REGRESSOR2 });
    // The client hears why the upload failed (D1), not what failed while cleaning up.
    expectOutage(res, 'D1');
    expect(faults.faultsOn('BUCKET', 'delete')).toBe(1);
    const orphan = keysPut(faults)[0]!;
    expect(await env.BUCKET.head(orphan)).not.toBeNull();
    expect(await rowsFor(name)).toEqual({ models: 0, versions: 0 });

    const deps = { db: database(env.DB), bucket: env.BUCKET, logger: createLogger() };
    // Younger than the grace period: an upload could still be inserting its row.
    const early = await repairArtifacts(deps, Date.now(), GRACE_SECONDS);
    expect(early.deleted).not.toContain(orphan);
    expect(early.young).toBeGreaterThanOrEqual(1);
    expect(await env.BUCKET.head(orphan)).not.toBeNull();

    const later = await repairArtifacts(deps, Date.now() + (GRACE_SECONDS + 1) * 1000, GRACE_SECONDS);
    expect(later.deleted).toContain(orphan);
    expect(await env.BUCKET.head(orphan)).toBeNull();
    // Every live version keeps its file, and still serves.
    const files = await env.BUCKET.list({ prefix: 'artifacts/' });
    const rows = await env.DB.prepare('select artifact_key from model_versions').all<{ artifact_key: string }>();
    for (const r of rows.results) expect(files.objects.map((o) => o.key)).toContain(r.artifact_key);
    const predicted = await infer(`/v2/models/${live}/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
    });
    expect(predicted.status).toBe(200);
    expect((await predicted.json<any>()).outputs[0].data).toEqual([0.5]);
  });

  it('leaves an orphan that the cron trigger removes, and the trigger keeps every live file', async () => {
    const name = uniqueName('cron');
    const faults = faultyEnv().add(
      { binding: 'DB', method: 'batch', when: INSERT_VERSION },
      { binding: 'BUCKET', method: 'delete' },
    );
    expectOutage(await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, { body: REGRESSOR }), 'D1');
    const orphan = keysPut(faults)[0]!;
    expect(await env.BUCKET.head(orphan)).not.toBeNull();
    const live = uniqueName('cronlive');
    expect((await uploadRaw(live, REGRESSOR)).status).toBe(201);
    // A one-second grace, run two seconds ahead: both files are old enough to be judged.
    await scheduledWith(faultyEnv({ REPAIR_GRACE_SECONDS: '1' }).env, Date.now() + 2000);
    expect(await env.BUCKET.head(orphan)).toBeNull();
    const version = await env.DB.prepare(
      'select v.artifact_key from model_versions v join models m on m.id = v.model_id where m.name = ?',
    )
      .bind(live)
      .first<{ artifact_key: string }>();
    expect(await env.BUCKET.head(version!.artifact_key)).not.toBeNull();
  });

  it('still runs when another cron chore fails first: D1 down for the drift check', async () => {
    const name = uniqueName('cronfail');
    const faults = faultyEnv().add(
      { binding: 'DB', method: 'batch', when: INSERT_VERSION },
      { binding: 'BUCKET', method: 'delete' },
    );
    expectOutage(await sendJson(faults.env, 'POST', `/v1/models/${name}/versions`, { body: REGRESSOR }), 'D1');
    const orphan = keysPut(faults)[0]!;
    const cron = faultyEnv({ REPAIR_GRACE_SECONDS: '1' }).add({
      binding: 'DB',
      method: ['all', 'first', 'raw', 'run'],
      when: (sql: string) => sql.includes('"drift_baselines"'),
    });
    await expect(scheduledWith(cron.env, Date.now() + 2000)).rejects.toThrow(/cron chores failed: .*drift/);
    expect(cron.faultsOn('DB')).toBeGreaterThan(0);
    expect(await env.BUCKET.head(orphan)).toBeNull();
  });
});
