import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreakers } from '../../workers/inference/backends/circuit-breaker';
import { runnerInstanceFor } from '../../workers/inference/backends/runner';
import type { Env } from '../../workers/platform/env';
import { reencryptSecrets } from '../../workers/webhooks/reencrypt-secrets';
import { captureBatchQueue, consume, drain, runAll } from '../batch/queue-driver';
import {
  ADMIN,
  ADD_MODEL,
  call,
  callJson,
  createKey,
  depsFor,
  fixture,
  fixtureJson,
  infer,
  registerUser,
  resultLines,
  testWorker,
  uniqueName,
  uploadRaw,
  type FixtureCase,
  type TestWorker,
} from '../helpers';
import { Rollout } from '../rollouts/support';
import { RUNNER_TOKEN, installStandIns, newRemoteUrl, runnerEnv } from './backend-stand-ins';

/*
 * Version backends inside workerd: remote versions against a stand-in remote (this platform's
 * own protocol routes), runner versions against a stand-in runner (the runner's protocol over
 * this isolate's onnxruntime). The failure paths: each answer a remote can give wrongly, the
 * circuit, registration refusals, uploads the runner refuses or that are too large.
 */

afterEach(() => vi.restoreAllMocks());

const ADD_CASE = 'cases/onnx-node.test_add.json';
const IRIS = 'generated/iris.onnx';

async function register(name: string, remote: Record<string, unknown>, status = 201) {
  return callJson('POST', `/v1/models/${name}/remote-versions`, status, { body: { remote } });
}

/** A model served in this isolate, to be called as the remote's model. */
async function servedHere(bytes: Uint8Array): Promise<string> {
  const name = uniqueName('origin');
  expect((await uploadRaw(name, bytes)).status).toBe(201);
  return name;
}

describe('remote versions', () => {
  it('are registered from the remote metadata and answer as the remote does, binary when it speaks it', async () => {
    const seen = installStandIns();
    const REMOTE_URL = newRemoteUrl();
    const origin = await servedHere(fixture(ADD_MODEL));
    const name = uniqueName('remote');
    const version = await register(name, { url: `${REMOTE_URL}/`, model: origin, version: '1', credential: ADMIN });
    expect(version).toMatchObject({
      backend: 'remote',
      size_bytes: 0,
      artifact_url: null,
      remote: { url: REMOTE_URL, model: origin, version: '1', credential: true, binary_data: true },
      signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 4, 5] }, { name: 'y' }] },
    });
    const testCase = fixtureJson<FixtureCase>(ADD_CASE);
    const body = { inputs: testCase.inputs };
    const direct = await (await infer(`/v2/models/${origin}/infer`, body)).json<any>();
    const res = await infer(`/v2/models/${name}/infer`, body);
    expect(res.status).toBe(200);
    expect((await res.json<any>()).outputs).toEqual(direct.outputs);
    const calls = seen.seen.filter((s) => s.url.includes('/infer'));
    expect(calls.map((s) => s.url)).toEqual([`${REMOTE_URL}/v2/models/${origin}/versions/1/infer`]);
    expect(await callJson('GET', `/v2/models/${name}`, 200)).toMatchObject({
      platform: 'remote',
      parameters: { backend: 'remote' },
    });
    expect(await callJson('GET', `/v2/models/${name}/ready`, 200)).toEqual({ name, ready: true });
    const artifact = await call('GET', `/v1/models/${name}/versions/1/artifact`);
    expect(artifact.status).toBe(404);
    expect((await artifact.json<any>()).error.message).toContain('is served by a remote server');
    // The same remote model again is the same version.
    const again = await register(name, { url: REMOTE_URL, model: origin, version: '1', credential: ADMIN }, 409);
    expect(again.error.code).toBe('duplicate_version');
  });

  it('get the platform credential, never the caller’s; records, batch jobs and the cache work as for any version', async () => {
    const seen = installStandIns();
    const REMOTE_URL = newRemoteUrl();
    const origin = await servedHere(fixture(IRIS));
    const name = uniqueName('remote-iris');
    await callJson('POST', '/v1/models', 201, {
      body: { name, feature_names: ['a', 'b', 'c', 'd'], class_labels: ['setosa', 'versicolor', 'virginica'] },
    });
    await register(name, {
      url: REMOTE_URL,
      model: origin,
      credential: `Bearer ${ADMIN}`,
      credential_header: 'Authorization',
    });
    const { key } = await createKey(['predict', 'models:read']);
    seen.seen.length = 0;
    const records = { instances: [{ a: 5.1, b: 3.5, c: 1.4, d: 0.2 }] };
    const first = await call('POST', `/v1/models/${name}/predict`, { token: key, body: records });
    expect(first.status).toBe(200);
    // What the model itself answers, served in this isolate, for the same row.
    const direct = await callJson('POST', `/v1/models/${origin}/predict`, 200, {
      body: { instances: [[5.1, 3.5, 1.4, 0.2]] },
    });
    expect((await first.json<any>()).predictions).toEqual(direct.predictions);
    const second = await call('POST', `/v1/models/${name}/predict`, { token: key, body: records });
    expect(second.headers.get('x-cache')).toBe('HIT');
    // One call went out, with the stored credential sent as it is in the header named.
    expect(seen.seen.map((s) => s.authorization)).toEqual([`Bearer ${ADMIN}`]);
    expect(JSON.stringify(seen.seen)).not.toContain(key);

    const captured = captureBatchQueue();
    const job = await callJson('POST', '/v1/jobs', 202, {
      body: { model: name, input: { rows: [records.instances[0], [6.7, 3.0, 5.2, 2.3]] } },
    });
    await runAll(captured);
    expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toMatchObject({ status: 'succeeded' });
    expect((await resultLines(job.id)).map((l) => l.prediction.label)).toHaveLength(2);
    expect(seen.seen.every((s) => s.authorization === `Bearer ${ADMIN}`)).toBe(true);
  });

  it('share a split alias with an isolate version: each caller keeps its version, the scorecard counts both', async () => {
    installStandIns();
    const origin = await servedHere(fixture(IRIS));
    const name = uniqueName('split-remote');
    expect((await uploadRaw(name, fixture(IRIS))).status).toBe(201);
    await register(name, { url: newRemoteUrl(), model: origin, credential: ADMIN });
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, {
      body: {
        routes: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
      },
    });
    const rollout = new Rollout();
    const body = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [6.7, 3.0, 5.2, 2.3] }] };
    const served: Record<string, number> = {};
    const assigned: string[] = [];
    let first: unknown;
    for (let i = 0; i < 40; i++) {
      const headers = { 'modelflare-routing-key': `user-${i % 20}`, 'cache-control': 'no-store' };
      const sent = await rollout.sendJson('POST', `/v2/models/${name}/infer`, 200, { body, headers });
      served[sent.model_version] = (served[sent.model_version] ?? 0) + 1;
      // The remote is the same model: whichever version answers, the outputs are the isolate's.
      first ??= sent.outputs;
      expect(sent.outputs).toEqual(first);
      // A key keeps its version: the second pass over the keys lands where the first did.
      if (i >= 20) expect(sent.model_version).toBe(assigned[i % 20]);
      else assigned[i] = sent.model_version;
    }
    expect(Object.keys(served).sort()).toEqual(['1', '2']);
    const card = await rollout.sendJson('GET', `/v1/models/${name}/aliases/production/scorecard?window=1h`, 200);
    expect(card.routes.map((r: any) => [r.version, r.requests, r.errors.client + r.errors.server])).toEqual([
      [1, served['1'], 0],
      [2, served['2'], 0],
    ]);
  });

  it('are registered in the caller’s workspace only: another workspace’s model of that name is untouched', async () => {
    installStandIns();
    const origin = await servedHere(fixture(IRIS));
    const owner = await registerUser('remote-owner');
    const name = uniqueName('remote-tenant');
    expect((await uploadRaw(name, fixture(IRIS), { token: owner.token })).status).toBe(201);
    const other = await registerUser('remote-other');
    await callJson('GET', `/v1/models/${name}`, 404, { token: other.token });
    const theirs = await callJson('POST', `/v1/models/${name}/remote-versions`, 201, {
      token: other.token,
      body: { remote: { url: newRemoteUrl(), model: origin, credential: ADMIN } },
    });
    expect(theirs).toMatchObject({ version: 1, backend: 'remote' });
    const mine = await callJson('GET', `/v1/models/${name}/versions`, 200, { token: owner.token });
    expect(mine.versions.map((v: any) => [v.version, v.backend])).toEqual([[1, 'isolate']]);
    expect(JSON.stringify(mine)).not.toContain(origin);
  });

  it('that fail answer 504, 502 or 503 in the protocol’s error form naming the backend, and open their circuit', async () => {
    const state = installStandIns();
    const REMOTE_URL = newRemoteUrl();
    const origin = await servedHere(fixture(ADD_MODEL));
    const worker = testWorker({
      ...env,
      BACKEND_BREAKER_FAILURES: '3',
      BACKEND_BREAKER_SECONDS: '60',
    } as unknown as Env);
    const name = uniqueName('flaky');
    const created = await call('POST', `/v1/models/${name}/remote-versions`, {
      via: worker,
      body: { remote: { url: REMOTE_URL, model: origin, credential: ADMIN, timeout_ms: 100 } },
    });
    expect(created.status).toBe(201);
    const body = { inputs: fixtureJson<FixtureCase>(ADD_CASE).inputs };
    const backend = `remote backend ${REMOTE_URL} model '${origin}'`;
    const send = async () => {
      const res = await infer(`/v2/models/${name}/infer`, body, { 'cache-control': 'no-store' }, worker);
      return { status: res.status, error: ((await res.json()) as { error?: string }).error };
    };

    state.fault = 'refuse-input';
    expect(await send()).toEqual({
      status: 400,
      error: `${backend} refused the inputs: the tensor is not what the model takes`,
    });
    state.fault = 'slow';
    expect(await send()).toEqual({ status: 504, error: `${backend} did not answer within 100 ms` });
    state.fault = 'error';
    expect(await send()).toEqual({ status: 502, error: `${backend} answered 500: the GPU fell off the bus` });
    state.fault = 'malformed';
    const malformed = await send();
    expect(malformed.status).toBe(502);
    expect(malformed.error).toContain(`${backend} answered an inference response that is not JSON`);
    // Three failures in a row (a refused input is an answer, not a failure): the circuit is open.
    state.fault = 'none';
    state.seen.length = 0;
    const open = await send();
    expect(open.status).toBe(503);
    expect(open.error).toMatch(
      /is not answering \(3 failed calls in a row, the last: .*\); calls are refused for \d+ s more/,
    );
    expect(state.seen).toEqual([]);
    const ready = await call('GET', `/v2/models/${name}/ready`, { via: worker });
    expect(ready.status).toBe(503);
    // The server's readiness lists it (the platform itself still serves: 200).
    const health = await callJson('GET', '/v2/health/ready', 200, { via: worker, token: null });
    expect(health.backends_not_answering).toEqual([{ backend, error: expect.stringContaining('not JSON') }]);
  });

  it('that fail during a batch job get the chunk retried with backoff, not its rows failed', async () => {
    const state = installStandIns();
    const REMOTE_URL = newRemoteUrl();
    const origin = await servedHere(fixture(IRIS));
    const name = uniqueName('batch-remote');
    await register(name, { url: REMOTE_URL, model: origin, credential: ADMIN });
    const captured = captureBatchQueue();
    const job = await callJson('POST', '/v1/jobs', 202, {
      body: {
        model: name,
        input: {
          rows: [
            [5.1, 3.5, 1.4, 0.2],
            [6.7, 3.0, 5.2, 2.3],
          ],
        },
      },
    });
    await consume('modelflare-batch', drain(captured)); // plan
    const chunks = drain(captured);
    state.fault = 'error';
    const failed = await consume('modelflare-batch', chunks);
    expect(failed.explicitAcks).toEqual([]);
    expect(failed.retryMessages.length).toBe(1);
    expect(failed.retryDelays[0]).toBeGreaterThan(0);
    expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toMatchObject({ rows: { done: 0, failed: 0 } });
    state.fault = 'none';
    await consume('modelflare-batch', chunks, 2);
    expect(await callJson('GET', `/v1/jobs/${job.id}`, 200)).toMatchObject({
      status: 'succeeded',
      rows: { done: 2, failed: 0 },
    });
  });

  it('have their credential moved to a new encryption key by the rotation pass, and still send it', async () => {
    const seen = installStandIns();
    const REMOTE_URL = newRemoteUrl();
    const origin = await servedHere(fixture(ADD_MODEL));
    const name = uniqueName('rotated');
    await register(name, { url: REMOTE_URL, model: origin, credential: ADMIN });
    const stored = async () =>
      (await env.DB.prepare(
        `select json_extract(mv.remote, '$.credential') as c from model_versions mv
           join models m on m.id = mv.model_id where m.name = ?`,
      )
        .bind(name)
        .first<{ c: string }>())!.c;
    const before = await stored();
    expect(before).toMatch(/^mfs1:/);
    expect(before).not.toContain(ADMIN);
    const KEY_B = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const rotated = depsFor({
      ...env,
      SECRETS_ENCRYPTION_KEY: KEY_B,
      SECRETS_PREVIOUS_KEYS: env.SECRETS_ENCRYPTION_KEY,
    } as unknown as Env);
    const pass = await reencryptSecrets(rotated.db, rotated.config, { limit: 1000 });
    expect(pass.reencrypted).toBeGreaterThanOrEqual(1);
    const after = await stored();
    expect(after.split(':')[1]).not.toBe(before.split(':')[1]);
    // Only the new key now: the remote still gets the platform's credential.
    const onlyB = testWorker({ ...env, SECRETS_ENCRYPTION_KEY: KEY_B, SECRETS_PREVIOUS_KEYS: '' } as unknown as Env);
    seen.seen.length = 0;
    const res = await infer(
      `/v2/models/${name}/infer`,
      { inputs: fixtureJson<FixtureCase>(ADD_CASE).inputs },
      undefined,
      onlyB,
    );
    expect(res.status).toBe(200);
    expect(seen.seen.map((s) => s.authorization)).toEqual([`Bearer ${ADMIN}`]);
  });

  it('retry an idempotent call whose connection failed, never an inference', async () => {
    const state = installStandIns();
    const REMOTE_URL = newRemoteUrl();
    const origin = await servedHere(fixture(ADD_MODEL));
    const name = uniqueName('unreachable');
    await register(name, { url: REMOTE_URL, model: origin, credential: ADMIN });
    state.fault = 'unreachable';
    state.seen.length = 0;
    const res = await infer(`/v2/models/${name}/infer`, { inputs: fixtureJson<FixtureCase>(ADD_CASE).inputs });
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error).toBe(
      `remote backend ${REMOTE_URL} model '${origin}' cannot be reached (Network connection lost.)`,
    );
    expect(state.seen.filter((s) => s.url.endsWith('/infer'))).toHaveLength(1);
    state.seen.length = 0;
    expect((await call('GET', `/v2/models/${name}/ready`)).status).toBe(503);
    expect(state.seen).toHaveLength(3);
  });

  it('are refused at registration with the remote’s answer, and nothing is written', async () => {
    installStandIns();
    const REMOTE_URL = newRemoteUrl();
    const name = uniqueName('refused');
    const missing = await register(name, { url: REMOTE_URL, model: 'no-such-model', credential: ADMIN }, 422);
    expect(missing.error.code).toBe('remote_unreadable');
    expect(missing.error.message).toBe(
      `remote backend ${REMOTE_URL} model 'no-such-model' answered 404 to the model metadata request: model 'no-such-model' not found; nothing was registered`,
    );
    const origin = await servedHere(fixture(ADD_MODEL));
    const denied = await register(name, { url: REMOTE_URL, model: origin }, 422);
    expect(denied.error.message).toContain("refused the platform's credential (401: missing credential");
    const nowhere = await register(name, { url: 'http://elsewhere.test', model: 'm' }, 422);
    expect(nowhere.error.message).toContain(
      'cannot be reached (connection refused: http://elsewhere.test/v2/models/m)',
    );
    const notHttp = await register(name, { url: 'ftp://remote.test', model: 'm' }, 400);
    expect(notHttp.error.message).toContain('url');
    await callJson('GET', `/v1/models/${name}`, 404);
  });

  it('are refused when the remote describes the model in a way the protocol does not allow', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () =>
      Response.json({ name: 'm', inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1] }], outputs: [] }),
    );
    const answer = await register(uniqueName('odd'), { url: newRemoteUrl(), model: 'm' }, 422);
    expect(answer.error.message).toContain(`described input 'x' with datatype "FLOAT"`);
  });

  it('answer 502 when the remote leaves out an output or sends one that does not fit its shape', async () => {
    installStandIns();
    const REMOTE_URL = newRemoteUrl();
    const origin = await servedHere(fixture(ADD_MODEL));
    const name = uniqueName('short');
    await register(name, { url: REMOTE_URL, model: origin, credential: ADMIN });
    const body = { inputs: fixtureJson<FixtureCase>(ADD_CASE).inputs };
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => Response.json({ outputs: [] }));
    const missing = await infer(`/v2/models/${name}/infer`, body);
    expect(missing.status).toBe(502);
    expect((await missing.json<any>()).error).toContain("answered without the output 'sum'");
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () =>
      Response.json({ outputs: [{ name: 'sum', datatype: 'FP32', shape: [2], data: [1] }] }),
    );
    const short = await infer(`/v2/models/${name}/infer`, body);
    expect(short.status).toBe(502);
    expect((await short.json<any>()).error).toContain('answered an output the platform cannot read');
  });
});

describe('runner versions', () => {
  const worker = (extra: Record<string, string> = {}): TestWorker => testWorker(runnerEnv(extra) as unknown as Env);

  it('stream to R2 in parts, are validated and described by the runner, and serve through it', async () => {
    const runner = worker();
    const state = installStandIns(runner);
    const bytes = fixture('generated/large-12mib.onnx');
    const name = uniqueName('big');
    // Over MAX_MODEL_BYTES with a runner configured: the runner serves it without being asked.
    const res = await uploadRaw(name, bytes, { via: runner, headers: { 'content-length': String(bytes.byteLength) } });
    const version = await res.json<any>();
    expect(res.status, JSON.stringify(version)).toBe(201);
    expect(version).toMatchObject({
      backend: 'runner',
      size_bytes: bytes.byteLength,
      onnx: { ir_version: 8, producer_name: 'modelflare-scripts', opsets: [{ domain: 'ai.onnx', version: 17 }] },
      signature: { inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 256] }] },
    });
    const object = await env.BUCKET.get(`artifacts/ws_default/${await versionId(name)}.onnx`);
    expect(object?.size).toBe(bytes.byteLength);
    await object?.body.cancel();
    const features = Array.from({ length: 256 }, (_, i) => (i % 7) / 7);
    const answer = await infer(
      `/v2/models/${name}/infer`,
      { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 256], data: features }] },
      undefined,
      runner,
    );
    const out = await answer.json<any>();
    expect(answer.status, JSON.stringify(out).slice(0, 300)).toBe(200);
    expect(out.outputs[0].shape).toEqual([1, version.signature.outputs[0].shape[1]]);
    expect(state.seen.some((s) => s.url.includes('/internal/runner/files'))).toBe(false); // the worker route is called in-process
    expect(await callJson('GET', `/v2/models/${name}`, 200, { via: runner })).toMatchObject({
      parameters: { backend: 'runner' },
    });
  });

  it('are asked for with ?backend=runner at any size, and answer as the isolate does', async () => {
    const runner = worker();
    installStandIns(runner);
    const name = uniqueName('small-runner');
    const res = await call('POST', `/v1/models/${name}/versions?backend=runner`, {
      via: runner,
      body: fixture(ADD_MODEL),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
    expect((await res.json<any>()).backend).toBe('runner');
    const testCase = fixtureJson<FixtureCase>(ADD_CASE);
    const answer = await infer(`/v2/models/${name}/infer`, { inputs: testCase.inputs }, undefined, runner);
    expect(answer.status).toBe(200);
    const sum = (await answer.json<any>()).outputs[0];
    expect(sum.shape).toEqual(testCase.outputs[0]!.shape);
    sum.data.forEach((v: number, i: number) => expect(v).toBeCloseTo(testCase.outputs[0]!.data[i] as number, 5));
  });

  it('are refused with 422 when the file is not ONNX or the runner cannot load it; nothing stays in R2', async () => {
    const runner = worker();
    installStandIns(runner);
    const before = (await env.BUCKET.list({ prefix: 'artifacts/ws_default/' })).objects.length;
    const name = uniqueName('bad-runner');
    const upload = (bytes: Uint8Array) =>
      call('POST', `/v1/models/${name}/versions?backend=runner`, {
        via: runner,
        body: bytes,
        headers: { 'content-type': 'application/octet-stream' },
      });
    const garbage = await upload(new TextEncoder().encode('\x08\x07 this is not a model'));
    expect(garbage.status).toBe(422);
    expect((await garbage.json<any>()).error.message).toContain('not a valid ONNX model');
    // A valid protobuf with an operator onnxruntime does not know.
    const unknown = await upload(fixture('generated/unknown_op.onnx'));
    expect(unknown.status).toBe(422);
    expect((await unknown.json<any>()).error.message).toMatch(
      /^the runner cannot load this model: onnxruntime cannot load the model/,
    );
    const empty = await upload(new Uint8Array(0));
    expect(empty.status).toBe(422);
    expect((await env.BUCKET.list({ prefix: 'artifacts/ws_default/' })).objects.length).toBe(before);
    await callJson('GET', `/v1/models/${name}`, 404);
  });

  it('over MAX_RUNNER_MODEL_BYTES answer 413, the parts uploaded so far abandoned', async () => {
    const runner = worker({ MAX_RUNNER_MODEL_BYTES: String(11 * 1024 * 1024) });
    installStandIns(runner);
    const before = (await env.BUCKET.list({ prefix: 'artifacts/ws_default/' })).objects.length;
    const bytes = fixture('generated/large-12mib.onnx');
    // Streamed without a Content-Length: the limit is found while the parts go to R2.
    const stream = new Blob([bytes]).stream();
    const res = await call('POST', `/v1/models/${uniqueName('huge')}/versions?backend=runner`, {
      via: runner,
      body: stream,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(413);
    expect((await res.json<any>()).error.message).toBe('the model file is larger than the limit of 11 MiB');
    expect((await env.BUCKET.list({ prefix: 'artifacts/ws_default/' })).objects.length).toBe(before);
  });

  it('count in readiness where RUNNER_URL names the runner', async () => {
    const runner = worker();
    const state = installStandIns(runner);
    expect(await callJson('GET', '/v2/health/ready', 200, { via: runner, token: null })).toMatchObject({
      ready: true,
      checks: { d1: true, r2: true, kv: true, runner: true },
    });
    state.fault = 'unreachable';
    expect(await callJson('GET', '/v2/health/ready', 503, { via: runner, token: null })).toMatchObject({
      ready: false,
      checks: { runner: false },
    });
  });

  it('answer 503 runner_not_configured where no runner is', async () => {
    const res = await call('POST', `/v1/models/${uniqueName('nowhere')}/versions?backend=runner`, {
      body: fixture(ADD_MODEL),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error.code).toBe('runner_not_configured');
  });

  it('serve the runner its files only with its token, and only model files', async () => {
    const runner = worker();
    const get = (key: string, token = RUNNER_TOKEN) =>
      runner.fetch(
        new Request(`http://modelflare.test/internal/runner/files?key=${encodeURIComponent(key)}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    expect((await get('artifacts/ws_default/x.onnx', 'wrong-token')).status).toBe(401);
    expect((await get('uploads/ws_default/rows.jsonl')).status).toBe(400);
    expect((await get('artifacts/ws_default/nothing-here.onnx')).status).toBe(404);
    // A worker without RUNNER_TOKEN gives no file to anyone.
    const tokenless = testWorker({ ...env, RUNNER_TOKEN: undefined } as unknown as Env);
    const plain = await call('GET', '/internal/runner/files?key=artifacts/ws_default/x.onnx', { via: tokenless });
    expect(plain.status).toBe(503);
  });
});

async function versionId(name: string): Promise<string> {
  const row = await env.DB.prepare(
    'select mv.id from model_versions mv join models m on m.id = mv.model_id where m.name = ? and m.workspace_id = ?',
  )
    .bind(name, 'ws_default')
    .first<{ id: string }>();
  return row!.id;
}

describe('backend plumbing', () => {
  it('a circuit opens after the threshold, lets one trial through after the pause, and closes on success', () => {
    let now = 0;
    const breakers = new CircuitBreakers(2, 1000, () => now);
    breakers.failed('b', 'first');
    expect(() => breakers.admit('b', 'B')).not.toThrow();
    breakers.failed('b', 'second');
    expect(breakers.isOpen('b')).toBe(true);
    expect(() => breakers.admit('b', 'B')).toThrow('B is not answering (2 failed calls in a row, the last: second)');
    now = 1000;
    expect(() => breakers.admit('b', 'B')).not.toThrow(); // the trial
    expect(() => breakers.admit('b', 'B')).toThrow(); // only one
    breakers.failed('b', 'third'); // the trial failed: open again
    expect(breakers.isOpen('b')).toBe(true);
    now = 2000;
    breakers.admit('b', 'B');
    breakers.succeeded('b');
    expect(breakers.isOpen('b')).toBe(false);
    expect(() => breakers.admit('b', 'B')).not.toThrow();
  });

  it('a version always lands on the same runner instance, and versions spread over them', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `ver_${i.toString(16).padStart(8, '0')}`);
    const placed = ids.map((id) => runnerInstanceFor(id, 4));
    expect(ids.map((id) => runnerInstanceFor(id, 4))).toEqual(placed);
    for (const instance of ['runner-0', 'runner-1', 'runner-2', 'runner-3']) {
      expect(placed.filter((p) => p === instance).length).toBeGreaterThan(50);
    }
    // A fifth instance takes versions only from the others; none moves between the first four.
    const moved = ids.filter((id, i) => runnerInstanceFor(id, 5) !== placed[i]);
    expect(moved.every((id) => runnerInstanceFor(id, 5) === 'runner-4')).toBe(true);
  });
});
