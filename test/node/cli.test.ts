import { statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDemoModel } from '../../scripts/demo-model.mjs';
import { adminApi, runCli, tempHome, uniqueName } from './cli';

const ROWS = [
  { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
  { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 },
  [5.9, 3.0, 4.2, 1.5],
];

let dir: string;
let modelFile: string;
const model = uniqueName('cli-iris');

beforeAll(async () => {
  dir = tempHome();
  modelFile = join(dir, 'iris.onnx');
  writeFileSync(modelFile, buildDemoModel());
  // Feature names and class labels let records be keyed by feature and answers carry labels.
  const created = await runCli([
    'models',
    'create',
    model,
    '--task',
    'classification',
    '--feature-names',
    'sepal_length,sepal_width,petal_length,petal_width',
    '--class-labels',
    'setosa,versicolor,virginica',
    '--json',
  ]);
  expect(created.code, created.stderr).toBe(0);
  expect(created.json()).toMatchObject({ name: model, task: 'classification', latest_version: null });
});

describe('the registry', () => {
  it('pushes a version with metadata and an alias, then lists and shows it', async () => {
    const push = await runCli([
      'models',
      'push',
      modelFile,
      '--name',
      model,
      '--alias',
      'production',
      '--description',
      'pushed by the CLI test',
      '--metric',
      'accuracy=0.97',
      '--json',
    ]);
    expect(push.code, push.stderr).toBe(0);
    const version = push.json();
    expect(version).toMatchObject({
      model,
      version: 1,
      aliases: ['production'],
      description: 'pushed by the CLI test',
      metrics: { accuracy: 0.97 },
    });
    expect(version.signature.inputs[0]).toMatchObject({ name: 'features', datatype: 'FP32', shape: [-1, 4] });
    // With --json, stdout is the result and stderr stays empty (no terminal: no progress bar).
    expect(push.stderr).toBe('');

    const listed = await runCli(['models', 'list', '--prefix', model, '--json']);
    expect(listed.code).toBe(0);
    expect(listed.json().models.map((m: any) => m.name)).toEqual([model]);

    const shown = await runCli(['models', 'show', model]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('production -> 1');
    expect(shown.stdout).toMatch(/VERSION\s+ALIASES/);

    const again = await runCli(['models', 'push', modelFile, '--name', model, '--json']);
    expect(again.code).toBe(2);
    expect(again.error().error).toMatchObject({ status: 409, code: 'duplicate_version', exit_code: 2 });
  });

  it('moves and removes aliases, archives a model', async () => {
    const name = uniqueName('cli-alias');
    const push = await runCli(['models', 'push', modelFile, '--name', name]);
    expect(push.code).toBe(0);
    expect(push.stdout).toContain(`${name} version 1`);
    // Without a terminal, upload progress is a few plain lines on stderr.
    expect(push.stderr).toContain('uploading iris.onnx: 100% 1.0 KiB/1.0 KiB');
    const set = await runCli(['models', 'alias', 'set', name, 'staging', '1', '--json']);
    expect(set.code).toBe(0);
    expect(set.json()).toMatchObject({ model: name, alias: 'staging', version: 1, previous_version: null });
    const rm = await runCli(['models', 'alias', 'rm', name, 'staging']);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain('removed staging');
    const missing = await runCli(['models', 'alias', 'set', name, 'staging', '9', '--json']);
    expect(missing.code).toBe(6);

    const archived = await runCli(['models', 'archive', name, '--json']);
    expect(archived.code).toBe(0);
    expect(archived.json().archived_at).not.toBeNull();
    const predict = await runCli(['predict', name, '--data', '[[1, 2, 3, 4]]']);
    expect(predict.code).toBe(6);
  });
});

describe('predict', () => {
  it('predicts records given inline, as CSV and as JSON Lines', async () => {
    const inline = await runCli(['predict', model, '--data', JSON.stringify(ROWS), '--json']);
    expect(inline.code, inline.stderr).toBe(0);
    const answer = inline.json();
    expect(answer.model).toBe(model);
    expect(answer.model_version).toBe(1);
    expect(answer.predictions.map((p: any) => p.label)).toEqual(['setosa', 'virginica', 'versicolor']);

    const csv = join(dir, 'rows.csv');
    writeFileSync(csv, 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n"6.7",3.0,5.2,2.3\n');
    const fromCsv = await runCli(['predict', model, '--file', csv, '--batch-size', '1', '--json']);
    expect(fromCsv.code, fromCsv.stderr).toBe(0);
    expect(fromCsv.json().predictions.map((p: any) => p.label)).toEqual(['setosa', 'virginica']);

    const jsonl = join(dir, 'rows.jsonl');
    writeFileSync(jsonl, `${ROWS.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const table = await runCli(['predict', model, '--version', 'production', '--file', jsonl]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/#\s+LABEL\s+PROBABILITY/);
    expect(table.stdout).toContain('virginica');
  });

  it('answers bad input with the API’s message and exit code 2, bad usage with 1', async () => {
    const bad = await runCli(['predict', model, '--data', '[[1, 2]]', '--json']);
    expect(bad.code).toBe(2);
    const error = bad.error().error;
    expect(error).toMatchObject({ status: 400, code: 'invalid_argument', exit_code: 2 });
    expect(error.message).toContain("input 'features'");
    expect(error.request_id).toMatch(/^req_/);

    const human = await runCli(['predict', model, '--data', '[[1, 2]]']);
    expect(human.stderr).toMatch(/^error: .*input 'features'.*\(HTTP 400, invalid_argument, request req_/);

    expect((await runCli(['predict', model, '--data', '{not json'])).code).toBe(1);
    expect((await runCli(['predict', model])).code).toBe(1);
    expect((await runCli(['predict', model, '--data', '[]', '--bogus'])).code).toBe(1);
    expect((await runCli(['models', 'frobnicate'])).code).toBe(1);
  });

  it('answers an unknown model with exit code 6', async () => {
    const res = await runCli(['predict', uniqueName('missing'), '--data', '[[1, 2, 3, 4]]', '--json']);
    expect(res.code).toBe(6);
    expect(res.error().error).toMatchObject({ status: 404, code: 'model_not_found' });
  });
});

describe('batch jobs', () => {
  it('submits a local JSONL file, waits with progress, and downloads the results', async () => {
    const file = join(dir, 'job.jsonl');
    writeFileSync(file, `${ROWS.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const submitted = await runCli(['jobs', 'submit', model, '--file', file, '--chunk-size', '2', '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const job = submitted.json();
    expect(job).toMatchObject({ model, version: 1, input: { kind: 'upload' } });

    const waited = await runCli(['jobs', 'wait', job.id, '--timeout', '90']);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toContain(`${job.id}  succeeded`);
    expect(waited.stderr).toContain(`job ${job.id}: 100% 3/3 succeeded`);
    const ended = await runCli(['jobs', 'status', job.id, '--json']);
    expect(ended.json()).toMatchObject({ id: job.id, status: 'succeeded', rows: { total: 3, done: 3, failed: 0 } });

    const results = await runCli(['jobs', 'results', job.id]);
    expect(results.code).toBe(0);
    const lines = results.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.index, l.prediction.label])).toEqual([
      [0, 'setosa'],
      [1, 'virginica'],
      [2, 'versicolor'],
    ]);

    const out = join(dir, 'results.jsonl');
    expect((await runCli(['jobs', 'results', job.id, '--output', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(results.stdout);

    const status = await runCli(['jobs', 'status', job.id]);
    expect(status.stdout).toContain('3 total, 3 done, 0 failed (100%)');

    const cancel = await runCli(['jobs', 'cancel', job.id, '--json']);
    expect(cancel.code).toBe(2);
    expect(cancel.error().error.status).toBe(409);
  });

  it('exits 4 when a job ends with failed rows, inline rows and --wait', async () => {
    const res = await runCli([
      'jobs',
      'submit',
      model,
      '--data',
      JSON.stringify([ROWS[0], [1, 2]]),
      '--wait',
      '--json',
    ]);
    expect(res.code, res.stderr).toBe(4);
    const job = res.json();
    expect(job).toMatchObject({ status: 'partially_failed', rows: { total: 2, done: 1, failed: 1 } });
    expect(job.errors[0].index).toBe(1);

    const listed = await runCli(['jobs', 'list', '--model', model, '--json']);
    expect(listed.json().jobs.map((j: any) => j.id)).toContain(job.id);
    expect((await runCli(['jobs', 'status', 'job_missing'])).code).toBe(6);
  });
});

describe('credentials and keys', () => {
  it('logs in with an admin key and saves it readable by its owner only', async () => {
    const server = inject('server');
    const home = tempHome();
    const env = { HOME: home, MODELFLARE_TOKEN: undefined };
    const login = await runCli(['login', '--token-stdin', '--json'], { env, input: `${server.adminKey}\n` });
    expect(login.code, login.stderr).toBe(0);
    expect(login.json()).toMatchObject({ kind: 'admin', url: server.url });
    expect(login.stdout + login.stderr).not.toContain(server.adminKey);
    const config = join(home, 'config.json');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, 'utf8')).token).toBe(server.adminKey);

    const whoami = await runCli(['whoami', '--json'], { env });
    expect(whoami.code).toBe(0);
    expect(whoami.json().kind).toBe('admin');

    // The saved credential is never sent to another server.
    const elsewhere = await runCli(['whoami', '--url', 'http://127.0.0.1:1'], { env });
    expect(elsewhere.code).toBe(3);

    expect((await runCli(['logout'], { env })).code).toBe(0);
    const after = await runCli(['whoami', '--json'], { env });
    expect(after.code).toBe(5);
  });

  it('logs in as a user with a password and renews the access token', async () => {
    const email = `${uniqueName('ada')}@example.com`;
    const password = 'correct horse battery staple';
    await adminApi().request('post', '/v1/auth/register', { body: { email, password } });
    const home = tempHome();
    const env = { HOME: home, MODELFLARE_TOKEN: undefined };
    const login = await runCli(['login', '--email', email, '--password-stdin', '--json'], { env, input: password });
    expect(login.code, login.stderr).toBe(0);
    expect(login.json()).toMatchObject({ kind: 'user', email, role: 'owner' });

    // An access token the server no longer accepts is renewed with the saved refresh token.
    const file = join(home, 'config.json');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...saved, token: 'expired' }));
    const whoami = await runCli(['whoami', '--json'], { env });
    expect(whoami.code, whoami.stderr).toBe(0);
    const renewed = JSON.parse(readFileSync(file, 'utf8'));
    expect(renewed.token).not.toBe('expired');
    expect(renewed.refresh_token).not.toBe(saved.refresh_token);

    const wrong = await runCli(['login', '--email', email, '--password-stdin', '--json'], {
      env: { HOME: tempHome(), MODELFLARE_TOKEN: undefined },
      input: 'not the password',
    });
    expect(wrong.code).toBe(5);
    expect(wrong.error().error.code).toBe('invalid_credentials');
  });

  it('refuses a bad credential with exit code 5', async () => {
    const res = await runCli(['models', 'list', '--json'], { env: { MODELFLARE_TOKEN: 'mfk_not_a_real_key' } });
    expect(res.code).toBe(5);
    expect(res.error().error).toMatchObject({ status: 401, exit_code: 5 });
  });

  it('creates an API key, predicts with it, revokes it', async () => {
    const created = await runCli(['keys', 'create', '--name', 'cli test', '--scopes', 'predict,models:read', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const key = created.json();
    expect(key.key).toMatch(/^mfk_/);
    expect(key.scopes).toEqual(['predict', 'models:read']);

    const asKey = { env: { MODELFLARE_TOKEN: key.key } };
    expect((await runCli(['predict', model, '--data', '[[5.1, 3.5, 1.4, 0.2]]'], asKey)).code).toBe(0);
    // A predict-only key may not create keys.
    expect((await runCli(['keys', 'create', '--name', 'x', '--scopes', 'predict'], asKey)).code).toBe(5);

    const listed = await runCli(['keys', 'list']);
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).not.toContain(key.key);

    const revoked = await runCli(['keys', 'revoke', key.id, '--json']);
    expect(revoked.code).toBe(0);
    expect(revoked.json().revoked_at).not.toBeNull();
    const refused = await runCli(['predict', model, '--data', '[[5.1, 3.5, 1.4, 0.2]]', '--json'], asKey);
    expect(refused.code).toBe(5);
    expect(refused.error().error.code).toBe('key_revoked');
  });

  it('exits 3 when the server cannot be reached', async () => {
    const res = await runCli(['models', 'list', '--json'], { env: { MODELFLARE_URL: 'http://127.0.0.1:1' } });
    expect(res.code).toBe(3);
    expect(res.error().error.message).toContain('cannot reach http://127.0.0.1:1');
  });
});

describe('webhooks and triggers', () => {
  it('creates, lists and deletes a webhook endpoint', async () => {
    const created = await runCli([
      'webhooks',
      'create',
      'https://hooks.example.com/cli',
      '--events',
      'job.cancelled',
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const endpoint = created.json();
    expect(endpoint.secret).toMatch(/^whsec_/);
    const listed = await runCli(['webhooks', 'list', '--json']);
    expect(listed.json().webhooks.map((w: any) => w.id)).toContain(endpoint.id);
    expect((await runCli(['webhooks', 'delete', endpoint.id])).code).toBe(0);
    expect((await runCli(['webhooks', 'delete', endpoint.id])).code).toBe(6);
    const bad = await runCli(['webhooks', 'create', 'https://hooks.example.com/x', '--events', 'nope']);
    expect(bad.code).toBe(2);
  });

  it('creates, lists and deletes a trigger', async () => {
    const created = await runCli(['triggers', 'create', '--name', 'nightly', '--model', model, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const trigger = created.json();
    expect(trigger.secret).toMatch(/^whsec_/);
    expect(trigger.hook_url_absolute).toBe(`${inject('server').url}/v1/hooks/${trigger.id}`);
    const listed = await runCli(['triggers', 'list']);
    expect(listed.stdout).toContain(trigger.id);
    expect(listed.stdout).not.toContain(trigger.secret);
    expect((await runCli(['triggers', 'delete', trigger.id])).code).toBe(0);
    expect((await runCli(['triggers', 'list', '--json'])).json().triggers.map((t: any) => t.id)).not.toContain(
      trigger.id,
    );
  });
});
