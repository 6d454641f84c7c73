import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { FailureLog, MAX_BUFFERED } from '../../workers/monitoring/failures';
import { database } from '../../workers/storage/db';
import { call, callJson, createKey, depsFor, fixture, registerUser, uniqueName, uploadRaw } from '../helpers';

/*
 * Issue 17, point 3: an errors view, the latest failing requests with request id, code and
 * message, read by the people who may read the model, and nobody else.
 */

describe('failed requests', () => {
  it('lists a model’s failures newest first with the request id, route, code and message its caller got', async () => {
    const name = uniqueName('fails');
    expect((await uploadRaw(name, fixture('generated/regressor.onnx'))).status).toBe(201);
    const bad = await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[1, 2, 3]] } });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { error: { code: string; message: string; request_id: string } };
    const v2 = await call('POST', `/v2/models/${name}/versions/9/infer`, {
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] },
    });
    expect(v2.status).toBe(404);
    const v2Message = ((await v2.json()) as { error: string }).error;
    // A success is not a failure.
    expect((await call('POST', `/v1/models/${name}/predict`, { body: { instances: [[1, 2]] } })).status).toBe(200);

    const list = await callJson('GET', `/v1/models/${name}/errors`, 200);
    expect(list.errors).toHaveLength(2);
    const [latest, first] = list.errors;
    expect(first).toMatchObject({
      request_id: badBody.error.request_id,
      method: 'POST',
      route: '/v1/models/:name/predict',
      status: 400,
      code: badBody.error.code,
      message: badBody.error.message,
      model: name,
    });
    expect(first.request_id).toBe(bad.headers.get('x-request-id'));
    expect(latest).toMatchObject({
      request_id: v2.headers.get('x-request-id'),
      route: '/v2/models/:model/versions/:version/infer',
      status: 404,
      message: v2Message,
      model: name,
    });
    expect(Date.parse(latest.created_at)).toBeGreaterThanOrEqual(Date.parse(first.created_at));

    const page = await callJson('GET', `/v1/models/${name}/errors?limit=1`, 200);
    expect(page.errors.map((e: any) => e.id)).toEqual([latest.id]);
    const next = await callJson('GET', `/v1/models/${name}/errors?limit=1&cursor=${page.next_cursor}`, 200);
    expect(next.errors.map((e: any) => e.id)).toEqual([first.id]);
    expect(next.next_cursor).toBeNull();
    expect((await callJson('GET', `/v1/models/${name}/errors?cursor=garbage`, 400)).error.code).toBe('invalid_cursor');

    // The workspace view holds them too (with the bad cursor just now), and narrows to the model.
    const all = await callJson('GET', `/v1/errors?model=${name}`, 200);
    expect(all.errors.map((e: any) => e.code)).toEqual(['invalid_cursor', latest.code, first.code]);
    expect(all.errors.slice(1).map((e: any) => e.id)).toEqual([latest.id, first.id]);
  });

  it('keeps each workspace’s failures to itself; the workspace view needs the admin permission', async () => {
    const owner = await registerUser('fails-owner');
    const as = { token: owner.token };
    expect((await uploadRaw('private', fixture('generated/regressor.onnx'), as)).status).toBe(201);
    expect((await call('POST', '/v1/models/private/predict', { ...as, body: { instances: [[1]] } })).status).toBe(400);
    // Unauthenticated failures belong to no workspace and are not kept.
    expect((await call('GET', '/v1/models/private/errors', { token: null })).status).toBe(401);

    const mine = await callJson('GET', '/v1/errors', 200, as);
    expect(mine.errors.map((e: any) => [e.model, e.status])).toEqual([['private', 400]]);

    const stranger = await registerUser('fails-stranger');
    expect((await callJson('GET', '/v1/models/private/errors', 404, { token: stranger.token })).error.code).toBe(
      'model_not_found',
    );
    // The stranger sees their own failed call, not the owner's.
    expect(
      (await callJson('GET', '/v1/errors', 200, { token: stranger.token })).errors.map((e: any) => [e.model, e.status]),
    ).toEqual([['private', 404]]);

    const reader = await createKey(['models:read'], as);
    expect((await callJson('GET', '/v1/models/private/errors', 200, { token: reader.key })).errors).toHaveLength(1);
    expect((await callJson('GET', '/v1/errors', 403, { token: reader.key })).error.code).toBe('permission_denied');
  });

  it('keeps the newest of a burst and cuts long messages', async () => {
    const log = new FailureLog();
    const deps = { ...depsFor(), flushesWhenDone: true };
    const workspaceId = `ws_burst_${crypto.randomUUID().slice(0, 8)}`;
    const failure = (i: number) => ({
      workspaceId,
      model: 'm',
      version: 1,
      requestId: `req_${i}`,
      method: 'POST',
      route: '/v1/models/:name/predict',
      status: 400,
      code: 'invalid_argument',
      message: i === 29 ? 'x'.repeat(2000) : `failure ${i}`,
    });
    for (let i = 0; i < 30; i++) log.record(deps, failure(i), 1000 + i);
    await log.flush(database(env.DB));
    const rows = await env.DB.prepare(
      'select request_id, length(message) as length from request_failures where workspace_id = ? order by created_at',
    )
      .bind(workspaceId)
      .all<{ request_id: string; length: number }>();
    expect(rows.results.map((r) => r.request_id)).toEqual(
      Array.from({ length: MAX_BUFFERED }, (_, i) => `req_${30 - MAX_BUFFERED + i}`),
    );
    expect(rows.results.at(-1)!.length).toBe(501);
    // Nothing is written twice.
    await log.flush(database(env.DB));
    const again = await env.DB.prepare('select count(*) as n from request_failures where workspace_id = ?')
      .bind(workspaceId)
      .first<{ n: number }>();
    expect(again!.n).toBe(MAX_BUFFERED);
  });
});
