/*
 * Every CLI command against the real local stack (cli.test.ts has the everyday ones), the
 * command table against the OpenAPI snapshot and the README, and the ways the CLI used to break
 * in ordinary use: a flat record, a CSV without a header, `| head`, an HTML answer, a server
 * that never answers, a typo, -q, and checks that must fail before an upload is sent.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderOperations } from '../../scripts/api/generate-cli.mjs';
import { SNAPSHOT } from '../../scripts/api/generate-types.mjs';
import { OPERATIONS, operationKey } from '../../scripts/cli/api-commands.mjs';
import { README, withCommands } from '../../scripts/cli/docs.mjs';
import { COMMANDS } from '../../scripts/cli/modelflare.mjs';
import { buildDemoModel } from '../../scripts/demo-model.mjs';
import { CLI, adminApi, runCli, tempHome, uniqueName, type CliOptions } from './cli';
import { ROOT } from './server';

const FEATURES = 'sepal_length,sepal_width,petal_length,petal_width';
const PASSWORD = 'correct horse battery staple';

let dir: string;
let modelFile: string;

/** Runs a command that must succeed; answers its --json output (or the result for text). */
async function ok(args: string[], options: CliOptions = {}) {
  const res = await runCli(args, options);
  expect(res.code, `modelflare ${args.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0);
  return res;
}
const okJson = async (args: string[], options: CliOptions = {}) => (await ok([...args, '--json'], options)).json();

/** A model with the demo classifier as version 1 (with feature names unless told otherwise). */
async function irisModel(prefix: string, named = true): Promise<string> {
  const name = uniqueName(prefix);
  if (named) {
    await ok(['models', 'create', name, '--task', 'classification', '--feature-names', FEATURES]);
    await ok(['models', 'update', name, '--class-labels', 'setosa,versicolor,virginica']);
  }
  await ok(['models', 'push', modelFile, '--name', name, '-q']);
  return name;
}

beforeAll(() => {
  dir = tempHome();
  modelFile = join(dir, 'iris.onnx');
  writeFileSync(modelFile, buildDemoModel());
});

describe('the command table', () => {
  it('is generated from the current OpenAPI snapshot (npm run api:refresh)', () => {
    const table = readFileSync(join(ROOT, 'scripts/cli/operations.json'), 'utf8');
    expect(table).toBe(renderOperations(readFileSync(SNAPSHOT, 'utf8')));
  });

  it('has a command for every operation of the API, and one name per command', () => {
    const covered = new Set(COMMANDS.flatMap((c) => c.operations ?? []));
    const missing = OPERATIONS.map(operationKey).filter((key) => !covered.has(key));
    expect(missing).toEqual([]);
    const names = COMMANDS.map((c) => c.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('every command is run by a test of the Node project', () => {
    const sources = readdirSync(join(ROOT, 'test/node'))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => readFileSync(join(ROOT, 'test/node', f), 'utf8'))
      .join('\n');
    const untested = COMMANDS.filter((c) => {
      const words = c.name.split(' ').map((w) => `'${w}'`);
      return !new RegExp(`\\[\\s*${words.join(',\\s*')}\\s*[,\\]]`).test(sources);
    }).map((c) => c.name);
    expect(untested).toEqual([]);
  });

  it('the README lists every command (node scripts/cli/docs.mjs)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toBe(withCommands(readme));
    for (const c of COMMANDS) expect(readme).toContain(`| \`${c.name}`);
  });
});

describe('accounts, sessions and passwords', () => {
  it('registers, renews, lists and ends sessions, changes and resets a password', async () => {
    const email = `${uniqueName('cli-user')}@example.com`;
    const anonymous = { env: { MODELFLARE_TOKEN: undefined } };
    const registered = await okJson(['register', '--email', email, '--name', 'Ada', '--password-stdin'], {
      ...anonymous,
      input: `${PASSWORD}\n`,
    });
    expect(registered).toMatchObject({ token_type: 'Bearer', user_id: expect.stringMatching(/^usr_/) });
    const asUser = (token: string) => ({ env: { MODELFLARE_TOKEN: token } });

    const renewed = await okJson(['auth', 'refresh', '--refresh-token', registered.refresh_token], anonymous);
    expect(renewed.refresh_token).not.toBe(registered.refresh_token);

    // A second session, then the first ends it.
    const other = await adminApi().request('post', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const sessions = (await okJson(['sessions', 'list'], asUser(renewed.access_token))).sessions;
    expect(sessions).toHaveLength(2);
    const otherSession = sessions.find((s: any) => !s.current);
    const ended = await runCli(['sessions', 'end', otherSession.id, '--json'], asUser(renewed.access_token));
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toBe(''); // 204: nothing to print
    expect((await runCli(['whoami'], asUser(other.access_token))).code).toBe(5);

    // Both passwords from standard input, one a line.
    const changed = await okJson(['password', 'change', '--password-stdin'], {
      ...asUser(renewed.access_token),
      input: `${PASSWORD}\nanother horse battery staple\n`,
    });
    expect(changed).toHaveProperty('ended_sessions');
    const wrong = await runCli(['password', 'change', '--password-stdin', '--json'], {
      ...asUser(renewed.access_token),
      input: 'not it\nyet another horse battery\n',
    });
    expect(wrong.code).toBe(2);
    expect(wrong.error().error.code).toBe('wrong_password');

    // Locked out: the admin issues a reset token, the user sets a new password with it.
    const reset = await okJson(['password', 'reset-token', registered.user_id]);
    expect(reset.token).toBeTruthy();
    await ok(['password', 'reset', '--reset-token', reset.token, '--password-stdin'], {
      ...anonymous,
      input: 'a fresh horse battery staple\n',
    });
    const home = tempHome();
    const login = await okJson(['login', '--email', email, '--password-stdin'], {
      env: { HOME: home, MODELFLARE_TOKEN: undefined },
      input: 'a fresh horse battery staple',
    });
    expect(login).toMatchObject({ kind: 'user', email });

    // No terminal and no --password-stdin: a clear usage error, nothing sent.
    const noTerminal = await runCli(['register', '--email', `x-${email}`], anonymous);
    expect(noTerminal.code).toBe(1);
    expect(noTerminal.stderr).toContain('no terminal to ask on');

    const jwks = await okJson(['jwks'], anonymous);
    expect(Array.isArray(jwks.keys)).toBe(true);
  });
});

describe('workspaces, members, invitations, keys and the audit log', () => {
  it('runs a team workspace from the CLI', async () => {
    const register = async (prefix: string) => {
      const email = `${uniqueName(prefix)}@example.com`;
      const user = await okJson(['register', '--email', email, '--password-stdin'], {
        env: { MODELFLARE_TOKEN: undefined },
        input: PASSWORD,
      });
      return { email, id: user.user_id as string, env: { MODELFLARE_TOKEN: user.access_token as string } };
    };
    const owner = await register('owner');
    const invitee = await register('invitee');

    const team = await okJson(['workspaces', 'create', '--name', 'cli team'], owner);
    const inTeam = { env: { ...owner.env, MODELFLARE_WORKSPACE: team.id } };
    expect((await okJson(['workspaces', 'list'], owner)).workspaces.map((w: any) => w.id)).toContain(team.id);
    expect(await okJson(['workspace', 'show'], inTeam)).toMatchObject({ id: team.id, role: 'owner' });
    expect(await okJson(['workspace', 'update', '--name', 'cli team, renamed'], inTeam)).toMatchObject({
      name: 'cli team, renamed',
    });

    // A role the API does not have is caught before anything is sent, with the one meant.
    const typo = await runCli(['invitations', 'create', '--email', invitee.email, '--role', 'membr'], inTeam);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("did you mean 'member'?");
    const invitation = await okJson(['invitations', 'create', '--email', invitee.email, '--role', 'member'], inTeam);
    expect(invitation.token).toBeTruthy();
    const spare = await okJson(['invitations', 'create', '--email', `spare-${invitee.email}`], inTeam);
    expect((await okJson(['invitations', 'list'], inTeam)).invitations.map((i: any) => i.id)).toEqual(
      expect.arrayContaining([invitation.id, spare.id]),
    );
    expect((await okJson(['invitations', 'revoke', spare.id], inTeam)).status).toBe('revoked');
    const accepted = await okJson(['invitations', 'accept', '--invitation-token', invitation.token], invitee);
    expect(accepted).toMatchObject({ status: 'accepted', workspace_id: team.id });

    const members = (await okJson(['members', 'list'], inTeam)).members;
    expect(members.map((m: any) => m.user_id)).toContain(invitee.id);
    expect(await okJson(['members', 'set-role', invitee.id, '--role', 'viewer'], inTeam)).toMatchObject({
      role: 'viewer',
    });
    // Cannot be undone: without a terminal it needs --yes, and nothing happens without it.
    const unconfirmed = await runCli(['members', 'remove', invitee.id], inTeam);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('pass --yes');
    expect((await okJson(['members', 'list'], inTeam)).members.map((m: any) => m.user_id)).toContain(invitee.id);
    await ok(['members', 'remove', invitee.id, '--yes'], inTeam);
    expect((await okJson(['members', 'list'], inTeam)).members.map((m: any) => m.user_id)).not.toContain(invitee.id);

    const key = await okJson(['keys', 'create', '--name', 'shown', '--scopes', 'predict'], inTeam);
    expect(await okJson(['keys', 'show', key.id], inTeam)).toMatchObject({ id: key.id, name: 'shown' });
    const audit = await okJson(['audit-log', '--action', 'invitation.create', '--limit', '5'], inTeam);
    expect(audit.entries.length).toBeGreaterThanOrEqual(2);
    expect(audit.entries.every((e: any) => e.action === 'invitation.create')).toBe(true);
    const page = await ok(['audit-log', '--limit', '1'], inTeam);
    expect(page.stdout).toMatch(/^ID\s+ACTION/);
    expect(page.stdout).toMatch(/more: --cursor \S+/);
  });
});

describe('the registry beyond push and predict', () => {
  it('updates, lists, downloads, restores and deletes', async () => {
    const name = await irisModel('cli-reg');
    const updated = await okJson([
      'models',
      'update',
      name,
      '--description',
      'updated from the CLI',
      '--tags',
      '{"team": "cli"}',
      '--cache',
      '{"enabled": true, "ttl_seconds": 120}',
    ]);
    expect(updated).toMatchObject({
      description: 'updated from the CLI',
      tags: { team: 'cli' },
      cache: { enabled: true, ttl_seconds: 120 },
    });
    const bad = await runCli(['models', 'update', name, '--tags', '{team']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--tags takes JSON');

    expect((await okJson(['models', 'versions', name])).versions.map((v: any) => v.version)).toEqual([1]);
    const metrics = join(dir, 'metrics.json');
    writeFileSync(metrics, '{"accuracy": 0.97}');
    expect(await okJson(['models', 'version', 'update', name, '1', '--metrics', `@${metrics}`])).toMatchObject({
      metrics: { accuracy: 0.97 },
    });

    const file = join(dir, `${name}.onnx`);
    const download = await ok(['models', 'download', name, '1', '--output', file]);
    expect(download.stderr).toContain(`wrote ${file}`);
    expect(readFileSync(file)).toEqual(readFileSync(modelFile));

    await ok(['models', 'archive', name]);
    expect(await okJson(['models', 'restore', name])).toMatchObject({ name, archived_at: null });
    await ok(['models', 'archive', name, '--version', '1']);
    expect((await runCli(['predict', name, '--data', '[5.1, 3.5, 1.4, 0.2]'])).code).not.toBe(0);
    expect(await okJson(['models', 'restore', name, '--version', '1'])).toMatchObject({
      version: 1,
      archived_at: null,
    });
    await ok(['predict', name, '--data', '[5.1, 3.5, 1.4, 0.2]']);

    const unconfirmed = await runCli(['models', 'delete', name]);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('cannot be undone: pass --yes');
    await ok(['models', 'show', name]);
    expect(await okJson(['models', 'delete', name, '--yes'])).toEqual({ name, deleted: true });
    expect((await runCli(['models', 'show', name])).code).toBe(6);
    // The name is free again.
    await ok(['models', 'push', modelFile, '--name', name, '-q']);
    await ok(['models', 'delete', name, '-y']);
  });
});

describe('the Open Inference Protocol', () => {
  it('reads server and model metadata, readiness, and infers, by alias or version', async () => {
    const name = await irisModel('cli-v2');
    expect(await okJson(['v2', 'server'])).toMatchObject({ name: 'modelflare' });
    expect(await okJson(['v2', 'model', name])).toMatchObject({ name, versions: ['1'] });
    expect(await okJson(['v2', 'model', name, '1'])).toMatchObject({ name, inputs: [{ name: 'features' }] });
    expect(await okJson(['v2', 'ready', name, '1'])).toMatchObject({ ready: true });
    const inputs = JSON.stringify([{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [6.7, 3, 5.2, 2.3] }]);
    const answer = await okJson(['v2', 'infer', name, '--inputs', inputs]);
    expect(answer.outputs.find((o: any) => o.name === 'label').data).toEqual([2]);
    const body = join(dir, 'infer.json');
    writeFileSync(body, JSON.stringify({ inputs: JSON.parse(inputs) }));
    expect((await okJson(['v2', 'infer', name, '1', '--data', `@${body}`])).model_version).toBe('1');
    const table = await ok(['v2', 'infer', name, '--inputs', inputs]);
    expect(table.stdout).toMatch(/NAME\s+DATATYPE\s+SHAPE\s+DATA/);
    expect((await runCli(['v2', 'ready', uniqueName('nope')])).code).toBe(6);
  });
});

describe('uploads and triggers', () => {
  it('uploads a file for a job, shows, rotates and fires a trigger', async () => {
    const name = await irisModel('cli-trg');
    const rows = join(dir, 'trigger-rows.jsonl');
    writeFileSync(rows, '[5.1, 3.5, 1.4, 0.2]\n[6.7, 3.0, 5.2, 2.3]\n');
    const upload = await okJson(['uploads', 'create', rows]);
    expect(upload).toMatchObject({ id: expect.stringMatching(/^upl_/), size_bytes: statSync(rows).size });
    const job = await okJson(['jobs', 'submit', name, '--upload-id', upload.id, '--wait']);
    expect(job).toMatchObject({ status: 'succeeded', rows: { total: 2, done: 2 } });
    const csv = await runCli(['uploads', 'create', join(dir, 'rows.csv')]);
    expect(csv.code).toBe(1);
    expect(csv.stderr).toContain('jobs submit MODEL --file rows.csv');

    const trigger = await okJson(['triggers', 'create', '--name', 'fire me', '--model', name]);
    expect(await okJson(['triggers', 'show', trigger.id])).toMatchObject({ id: trigger.id, model: name });
    const rotated = await okJson(['triggers', 'rotate-secret', trigger.id]);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(trigger.secret);

    const fire = (secret: string, ...args: string[]) =>
      runCli(['triggers', 'fire', trigger.id, '--secret-stdin', ...args, '--json'], { input: secret });
    const fired = await fire(rotated.secret, '--data', '[[5.1, 3.5, 1.4, 0.2]]', '--delivery-id', 'cli-d1');
    expect(fired.code, fired.stderr).toBe(0);
    expect(fired.json()).toMatchObject({ job_id: expect.stringMatching(/^job_/), duplicate: false });
    const again = await fire(rotated.secret, '--data', '[[5.1, 3.5, 1.4, 0.2]]', '--delivery-id', 'cli-d1');
    expect(again.json()).toEqual({ job_id: fired.json().job_id, duplicate: true });
    const fromFile = await fire(rotated.secret, '--file', rows);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(await okJson(['jobs', 'wait', fromFile.json().job_id])).toMatchObject({ rows: { total: 2 } });
    const forged = await fire(`whsec_${Buffer.alloc(24, 1).toString('base64')}`, '--data', '[[1, 2, 3, 4]]');
    expect(forged.code).toBe(5);
    expect(forged.error().error.code).toBe('invalid_signature');
    const noSecret = await runCli(['triggers', 'fire', trigger.id, '--data', '[]']);
    expect(noSecret.code).toBe(1);
    await ok(['triggers', 'delete', trigger.id]);
  });
});

describe('webhook endpoints and their deliveries', () => {
  it('shows, updates, rotates, lists deliveries and resends one', async () => {
    const name = await irisModel('cli-wh');
    // Nobody listens there: the delivery is recorded and fails.
    const endpoint = await okJson(['webhooks', 'create', 'http://127.0.0.1:9/hook', '--events', 'job.succeeded']);
    expect(await okJson(['webhooks', 'show', endpoint.id])).toMatchObject({ id: endpoint.id, enabled: true });
    expect(await okJson(['webhooks', 'update', endpoint.id, '--description', 'local', '--no-enabled'])).toMatchObject({
      description: 'local',
      enabled: false,
    });
    expect(
      await okJson(['webhooks', 'update', endpoint.id, '--endpoint-url', 'http://127.0.0.1:9/other', '--enabled']),
    ).toMatchObject({ url: 'http://127.0.0.1:9/other', enabled: true });
    expect((await okJson(['webhooks', 'rotate-secret', endpoint.id])).secret).toMatch(/^whsec_/);

    await ok(['jobs', 'submit', name, '--data', '[[5.1, 3.5, 1.4, 0.2]]', '--wait', '-q']);
    let deliveries: any[] = [];
    for (let i = 0; i < 60 && deliveries.length === 0; i++) {
      deliveries = (await okJson(['webhooks', 'deliveries', endpoint.id])).deliveries;
      if (deliveries.length === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(deliveries[0]).toMatchObject({ event: 'job.succeeded' });
    const resent = await okJson(['webhooks', 'resend', endpoint.id, deliveries[0].id]);
    expect(resent.id).toBe(deliveries[0].id);
    await ok(['webhooks', 'delete', endpoint.id]);
  });
});

describe('monitoring', () => {
  it('baseline, logged predictions, feedback, performance, drift, stats and metrics', async () => {
    const name = await irisModel('cli-mon');
    await ok(['models', 'update', name, '--monitoring', '{"log_sample_rate": 1}']);
    const reference = join(dir, 'reference.json');
    writeFileSync(
      reference,
      JSON.stringify(Array.from({ length: 30 }, (_, i) => [4.5 + i * 0.1, 3, 1.4 + i * 0.05, 0.2])),
    );
    expect(await okJson(['baseline', 'set', name, '1', '--rows', `@${reference}`])).toMatchObject({
      status: 'ready',
      rows: 30,
    });
    expect(await okJson(['baseline', 'show', name, '1'])).toMatchObject({ version: 1, rows: 30 });
    const oneOf = await runCli(['baseline', 'set', name, '1', '--capture', 'many']);
    expect(oneOf.code).toBe(1);
    expect(oneOf.stderr).toContain('--capture takes a whole number');

    await ok(['predict', name, '--data', '[[6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2]]']);
    let logged: any[] = [];
    for (let i = 0; i < 40 && logged.length === 0; i++) {
      logged = (await okJson(['predictions', 'list', name])).predictions;
      if (logged.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(logged).toHaveLength(1);
    expect(await okJson(['predictions', 'show', logged[0].id])).toMatchObject({ id: logged[0].id, rows: 2 });
    await ok(['feedback', logged[0].id, '--actual', '["virginica", "setosa"]']);
    const performance = await okJson(['performance', name]);
    expect(performance).toMatchObject({ kind: 'classification', count: 2, metrics: { accuracy: 1 } });

    const report = await okJson(['drift', 'check', name]);
    expect(report).toMatchObject({ model: name, version: 1 });
    expect(await okJson(['drift', 'show', name])).toMatchObject({ model: name });
    expect((await okJson(['drift', 'history', name])).reports.length).toBeGreaterThanOrEqual(1);

    const stats = await okJson(['stats', name, '--window', '1h']);
    expect(stats.total.requests).toBeGreaterThanOrEqual(1);
    const human = await ok(['stats', name]);
    expect(human.stdout).toMatch(/^model\s+cli-mon/m);
    const metrics = await ok(['metrics']);
    expect(metrics.stdout).toContain('# TYPE modelflare_');
  });
});

describe('alerts, errors and the prediction export', () => {
  it('manages an alert rule, lists failing requests and alert events, exports logged predictions', async () => {
    const name = await irisModel('cli-ops');
    await ok(['models', 'update', name, '--monitoring', '{"log_sample_rate": 1}']);
    const from = new Date(Date.now() - 60_000).toISOString();
    await ok(['predict', name, '--data', '[[6.7, 3.0, 5.2, 2.3]]']);
    const refused = await runCli([
      'infer',
      name,
      '--data',
      '{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}',
    ]);
    expect(refused.code).not.toBe(0);

    const rule = await okJson(['models', 'alerts', 'create', name, '--metric', 'error_rate', '--threshold', '0.5']);
    expect(rule).toMatchObject({ metric: 'error_rate', threshold: 0.5 });
    expect(await okJson(['models', 'alerts', 'show', name, rule.id])).toMatchObject({ id: rule.id });
    expect(await okJson(['models', 'alerts', 'update', name, rule.id, '--threshold', '0.25'])).toMatchObject({
      id: rule.id,
      threshold: 0.25,
    });
    expect(JSON.stringify(await okJson(['models', 'alerts', name]))).toContain(rule.id);
    expect(JSON.stringify(await okJson(['alerts', 'list']))).toContain(rule.id);
    expect(await okJson(['models', 'alert-events', name])).toBeTypeOf('object');
    await ok(['models', 'alerts', 'delete', name, rule.id]);
    const gone = await runCli(['models', 'alerts', 'show', name, rule.id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('alert_not_found');

    // The refused request is listed, by model and across the workspace, once its metrics are written.
    let errors = '';
    for (let i = 0; i < 40 && !errors.includes(name); i++) {
      errors = JSON.stringify(await okJson(['models', 'errors', name]));
      if (!errors.includes(name)) await new Promise((r) => setTimeout(r, 250));
    }
    expect(errors).toContain(name);
    expect(JSON.stringify(await okJson(['errors', 'list']))).toContain(name);

    let lines: string[] = [];
    for (let i = 0; i < 40 && lines.length === 0; i++) {
      const to = new Date(Date.now() + 60_000).toISOString();
      const exported = await ok(['models', 'predictions', 'export', name, '--from', from, '--to', to]);
      lines = exported.stdout.split('\n').filter((l) => l.trim() !== '');
      if (lines.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ model: name, version: 1, input: [6.7, 3, 5.2, 2.3] });
  });
});

describe('health', () => {
  it('answers liveness and readiness without a credential', async () => {
    const anonymous = { env: { MODELFLARE_TOKEN: undefined } };
    expect(await okJson(['health', 'live'], anonymous)).toMatchObject({ live: true });
    expect(await okJson(['health', 'ready'], anonymous)).toMatchObject({ ready: true });
  });
});

describe('ordinary use that used to break', () => {
  it('a flat array is one record; a CSV file without a header is read in signature order', async () => {
    const bare = await irisModel('cli-bare', false);
    const flat = await okJson(['predict', bare, '--data', '[6.7, 3.0, 5.2, 2.3]']);
    expect(flat.predictions).toHaveLength(1);
    expect(flat.predictions[0].label).toBe(2);
    const csv = join(dir, 'no-header.csv');
    writeFileSync(csv, '5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n');
    const fromCsv = await okJson(['predict', bare, '--file', csv]);
    expect(fromCsv.predictions.map((p: any) => p.label)).toEqual([0, 2]);
    const job = await okJson(['jobs', 'submit', bare, '--file', csv, '--wait']);
    expect(job).toMatchObject({ status: 'succeeded', rows: { total: 2, done: 2 } });
    // A header of input names works too; the wrong count of cells is named.
    writeFileSync(csv, 'a,b\n1,2\n');
    const short = await runCli(['predict', bare, '--file', csv, '--no-header', '--json']);
    expect(short.code).toBe(2);
    expect(short.error().error.message).toContain("input 'features'");
  });

  it('a reader that stops early: quiet client, quiet server', async () => {
    const name = await irisModel('cli-pipe');
    const rows = join(dir, 'many.jsonl');
    writeFileSync(
      rows,
      Array.from({ length: 20_000 }, (_, i) => JSON.stringify([4 + (i % 40) / 10, 3, 1.4, 0.2])).join('\n'),
    );
    const job = await okJson(['jobs', 'submit', name, '--file', rows, '--include-input', '--wait', '-q']);
    expect(job.chunks.total).toBeGreaterThan(1);
    const { logFile, url, adminKey } = inject('server');
    const before = readFileSync(logFile, 'utf8').length;
    // The CLI under `| head`: no EPIPE trace, exit 0.
    const run = spawnSync(
      'bash',
      ['-c', `node "${CLI}" jobs results ${job.id} | head -c 300 > /dev/null; exit \${PIPESTATUS[0]}`],
      { env: { ...process.env, MODELFLARE_URL: url, MODELFLARE_TOKEN: adminKey }, encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // A client that hangs up as soon as the first bytes arrive, several times: the server logs
    // no error ("Network connection lost") and cancels nothing as hung.
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((done) => {
        const req = get(
          `${url}/v1/jobs/${job.id}/results`,
          { headers: { authorization: `Bearer ${adminKey}` } },
          (res) =>
            res.once('data', () => {
              req.destroy();
              done();
            }),
        );
        req.on('error', () => done());
      });
    }
    await new Promise((r) => setTimeout(r, 2000));
    const after = readFileSync(logFile, 'utf8').slice(before);
    expect(after).not.toContain('Network connection lost');
    expect(after).not.toContain('hung');
  });

  it('a typo gets a suggestion: commands, options, model names', async () => {
    const name = await irisModel('cli-typo');
    const command = await runCli(['modles', 'list']);
    expect(command.code).toBe(1);
    expect(command.stderr).toContain("unknown command: modles list; did you mean 'models list'?");
    const sub = await runCli(['jobs', 'stauts', 'job_1']);
    expect(sub.stderr).toContain("did you mean 'jobs status'?");
    const option = await runCli(['predict', name, '--dat', '[1]']);
    expect(option.code).toBe(1);
    expect(option.stderr).toContain("unknown option '--dat' for predict; did you mean '--data'?");
    const model = await runCli(['predict', `${name}x`, '--data', '[5.1, 3.5, 1.4, 0.2]', '--json']);
    expect(model.code).toBe(6);
    expect(model.error().error).toMatchObject({ code: 'model_not_found', did_you_mean: [name] });
    expect(model.error().error.message).toContain(`did you mean '${name}'?`);
  });

  it('-q silences progress and notices, not results or errors', async () => {
    const name = uniqueName('cli-quiet');
    const push = await ok(['models', 'push', modelFile, '--name', name, '-q']);
    expect(push.stderr).toBe('');
    expect(push.stdout).toContain(`${name} version 1`);
    const job = await ok(['-q', 'jobs', 'submit', name, '--data', '[[5.1, 3.5, 1.4, 0.2]]', '--wait']);
    expect(job.stderr).toBe('');
    const predicted = await ok(['predict', name, '--data', '[5.1, 3.5, 1.4, 0.2]', '--quiet']);
    expect(predicted.stderr).toBe('');
    const out = join(dir, 'quiet.jsonl');
    const results = await ok(['jobs', 'results', job.stdout.split(/\s/)[0]!, '-o', out, '-q']);
    expect(results.stderr).toBe('');
    const failed = await runCli(['predict', name, '--data', '[1]', '-q']);
    expect(failed.stderr).toMatch(/^error: /);
    // Without -q the same commands do speak on stderr.
    expect((await ok(['predict', name, '--data', '[5.1, 3.5, 1.4, 0.2]'])).stderr).toContain('1 prediction(s)');
    await ok(['models', 'delete', name, '--yes', '-q']);
  });

  it('refuses an upload the server would refuse, before sending it', async () => {
    const key = await okJson(['keys', 'create', '--name', 'predict only', '--scopes', 'predict']);
    const asKey = { env: { MODELFLARE_TOKEN: key.key } };
    const push = await runCli(['models', 'push', modelFile, '--name', uniqueName('never'), '--json'], asKey);
    expect(push.code).toBe(5);
    expect(push.error().error).toMatchObject({ permission: 'models:write' });
    expect(push.error().error.message).toContain("lacks the 'models:write' permission");
    expect(push.error().error.message).toContain('was not sent');
    const upload = await runCli(['uploads', 'create', join(dir, 'trigger-rows.jsonl')], asKey);
    expect(upload.code).toBe(5);
  });
});

/** A server that is not modelflare: it records what reached it. */
describe('answers that are not the API’s', () => {
  let fake: Server;
  let url: string;
  const seen: { method: string; path: string; bytes: number }[] = [];
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    'GET /v1/models': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><head><title>Sign in - Corp SSO</title></head><body>login</body></html>');
    },
    'GET /v1/jobs': (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>');
    },
    'GET /v1/me': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'api_key',
          id: 'key_fake',
          workspace_id: 'ws_default',
          role: null,
          permissions: ['models:read', 'models:write', 'jobs'],
          email: null,
          name: null,
          created_at: null,
          limits: {
            max_model_bytes: 512,
            max_upload_bytes: 64,
            max_json_body_bytes: 1024,
            max_predict_body_bytes: 1024,
          },
        }),
      );
    },
    // GET /v1/triggers: never answers.
  };

  beforeAll(async () => {
    fake = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        seen.push({ method: req.method ?? '', path, bytes });
        routes[`${req.method} ${path}`]?.(req, res);
      });
    });
    await new Promise<void>((done) => fake.listen(0, '127.0.0.1', done));
    const address = fake.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => {
    fake.closeAllConnections();
    fake.close();
  });

  const env = () => ({ env: { MODELFLARE_URL: url, MODELFLARE_TOKEN: 'whatever' } });

  it('names the status and content type of an HTML answer, and never prints the page', async () => {
    const login = await runCli(['models', 'list'], env());
    expect(login.code).toBe(3);
    expect(login.stderr).toBe(
      `error: the server answered HTTP 200 with text/html, not JSON (a page titled "Sign in - Corp SSO"): is ${url} the modelflare API, and not a proxy or login page in front of it?\n`,
    );
    const gateway = await runCli(['jobs', 'list', '--json'], env());
    expect(gateway.code).toBe(3);
    expect(gateway.error().error).toMatchObject({ status: 502, content_type: 'text/html' });
    expect(gateway.stderr).toContain('a page titled \\"502 Bad Gateway\\"');
    expect(gateway.stderr).not.toContain('nginx');
  });

  it('gives up on a server that never answers, after --timeout or MODELFLARE_TIMEOUT', async () => {
    const flag = await runCli(['triggers', 'list', '--timeout', '1'], env());
    expect(flag.code).toBe(3);
    expect(flag.stderr).toContain(`no answer from ${url} within 1 s`);
    const variable = await runCli(['triggers', 'list', '--json'], {
      env: { ...env().env, MODELFLARE_TIMEOUT: '0.5' },
    });
    expect(variable.error().error).toMatchObject({ exit_code: 3, timeout_seconds: 0.5 });
    expect((await runCli(['triggers', 'list', '--timeout', 'soon'], env())).code).toBe(1);
  });

  it('checks size against the server’s limit before the body is sent', async () => {
    seen.length = 0;
    const push = await runCli(['models', 'push', modelFile, '--name', 'big'], env());
    expect(push.code).toBe(2);
    expect(push.stderr).toContain(`${modelFile} is 1.0 KiB, over the server's limit of 512 B (max_model_bytes)`);
    const rows = join(dir, 'fake-rows.jsonl');
    writeFileSync(rows, `${'[1, 2, 3, 4]\n'.repeat(10)}`);
    expect((await runCli(['uploads', 'create', rows], env())).code).toBe(2);
    expect((await runCli(['jobs', 'submit', 'm', '--file', rows], env())).code).toBe(2);
    // Only the checks reached the server: no upload, not a byte of a file.
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /v1/me', 'GET /v1/me', 'GET /v1/me']);
  });
});
