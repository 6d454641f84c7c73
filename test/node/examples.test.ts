import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DEMO, buildDemoModel } from '../../scripts/demo-model.mjs';
import { Modelflare, ModelflareError, main } from '../../scripts/examples/client';
import { adminApi, runCli, tempHome, uniqueName } from './cli';
import { requireTool } from './required-tool';
import { ROOT } from './server';

/** The examples, run as their headers say, against the local server with the demo model. */
beforeAll(async () => {
  const api = adminApi();
  const { name, ...fields } = DEMO;
  await api.request('post', '/v1/models', { body: { name, ...fields, task: 'classification' } });
  const bytes = buildDemoModel();
  const version = await api.request('post', '/v1/models/{name}/versions', {
    params: { name },
    raw: { body: bytes, contentType: 'application/octet-stream', length: bytes.length },
  });
  await api.request('put', '/v1/models/{name}/aliases/{alias}', {
    params: { name, alias: 'production' },
    body: { version: version.version },
  });
});

const serverEnv = () => {
  const { url, adminKey } = inject('server');
  return { ...process.env, MODELFLARE_URL: url, MODELFLARE_TOKEN: adminKey };
};

/** The interpreter the Python example runs with (PYTHON overrides it). */
const PYTHON = process.env.PYTHON ?? 'python3';
const hasPython = spawnSync(PYTHON, ['--version']).status === 0;

describe('examples', () => {
  it('infer.py calls V2 infer with the standard library', (ctx) => {
    requireTool(ctx, hasPython, `${PYTHON} is not installed`);
    const run = spawnSync(PYTHON, [join(ROOT, 'scripts/examples/infer.py')], { env: serverEnv(), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('iris version 1');
    expect(run.stdout).toMatch(/\[5\.1, 3\.5, 1\.4, 0\.2\] -> setosa \(p=0\.9\d+\)/);
    expect(run.stdout).toMatch(/\[6\.7, 3\.0, 5\.2, 2\.3\] -> virginica/);

    const refused = spawnSync(PYTHON, [join(ROOT, 'scripts/examples/infer.py')], {
      env: { ...serverEnv(), MODEL: 'no-such-model' },
      encoding: 'utf8',
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("HTTP 404: model 'no-such-model' not found");
  });

  it('client.ts predicts, infers and runs a batch job, typed by the generated types', async () => {
    const { url, adminKey } = inject('server');
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args.join(' ')));
    try {
      await main(url, adminKey);
    } finally {
      log.mockRestore();
    }
    const printed = lines.join('\n');
    expect(printed).toContain('iris version 1: [{"label":"setosa"');
    expect(printed).toMatch(/job job_\w+ succeeded: 3 rows scored, 0 failed/);
    expect(printed).toContain('{"index":2,"prediction":{"label":"versicolor"');

    const refused = await new Modelflare(url, 'mfk_wrong').predict('iris', [[1, 2, 3, 4]]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModelflareError);
    expect(refused).toMatchObject({ status: 401, code: 'unauthenticated' });
    const invalid = await new Modelflare(url, adminKey)
      .infer('iris', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, message: expect.stringContaining("input 'features'") });
  });

  it('cli.sh goes from an ONNX file to a finished batch job, and deletes its model with the CLI', async () => {
    const home = tempHome();
    const model = uniqueName('cli-sh');
    const run = spawnSync('bash', [join(ROOT, 'scripts/examples/cli.sh')], {
      env: { ...serverEnv(), HOME: home, MODELFLARE_CONFIG: join(home, 'config.json'), MODEL: model },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/job_\w+ {2}succeeded/);
    const results = run.stdout.split('\n').filter((l) => l.startsWith('{"index"'));
    expect(results.map((l) => JSON.parse(l).prediction.label)).toEqual(['setosa', 'virginica', 'versicolor']);
    // The flat record is one record.
    expect(run.stdout).toMatch(/0\s+virginica\s+1\.0000/);
    // Nothing left behind: the model and its name are gone.
    expect(run.stdout).toContain(`deleted ${model}`);
    const gone = await runCli(['models', 'show', model, '--json']);
    expect(gone.code).toBe(6);
  });
});
