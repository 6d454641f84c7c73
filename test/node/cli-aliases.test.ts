import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDemoModel, DEMO } from '../../scripts/demo-model.mjs';
import { adminApi, runCli, tempHome, uniqueName, type CliOptions } from './cli';
import { fiveFeatureCandidate } from './rollout-models';

/*
 * Issue 16, point 6: rollouts from the CLI against the real local stack — a split with a
 * shadow, guard and steps set by flags, shown, scored while real traffic flows through it,
 * rolled back by the guard and by hand, promoted; every bad flag named before anything is
 * sent (and nothing written), and what the server refuses passed on with its exit code.
 */

let dir: string;
const files: Record<string, string> = {};

async function ok(args: string[], options: CliOptions = {}) {
  const res = await runCli(args, options);
  expect(res.code, `modelflare ${args.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0);
  return res;
}
const okJson = async (args: string[]) => (await ok([...args, '--json'])).json();

/** The demo classifier as version 1, a weaker one as 2, and a candidate that fails every request as 3. */
async function threeVersions(): Promise<string> {
  const name = uniqueName('cli-rollout');
  const { name: _demo, ...fields } = DEMO;
  await adminApi().request('post', '/v1/models', { body: { name, ...fields, task: 'classification' } });
  for (const file of ['v1', 'v2', 'broken']) await ok(['models', 'push', files[file]!, '--name', name, '-q']);
  return name;
}

/** Predictions through the model's production alias; the versions that answered (0 for a failure). */
async function traffic(name: string, n: number): Promise<number[]> {
  const { url, adminKey } = inject('server');
  const served: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/models/${name}/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({
        instances: [{ sepal_length: 5 + (i % 10) / 10, sepal_width: 3.4, petal_length: 1.5, petal_width: 0.2 }],
      }),
    });
    const body = (await res.json()) as any;
    served.push(res.status === 200 ? body.model_version : 0);
  }
  return served;
}

const aliasOf = (name: string, alias = 'production') =>
  adminApi().request('get', '/v1/models/{name}/aliases/{alias}', { params: { name, alias } });

async function fireRolloutCron() {
  const { url } = inject('server');
  const res = await fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('* * * * *')}`);
  expect(res.status, await res.text()).toBe(200);
}

beforeAll(() => {
  dir = tempHome();
  const write = (file: string, bytes: Uint8Array) => {
    files[file] = join(dir, `${file}.onnx`);
    writeFileSync(files[file]!, bytes);
  };
  write('v1', buildDemoModel());
  write('v2', buildDemoModel({ hidden: 8, epochs: 300 }));
  write('broken', fiveFeatureCandidate());
});

describe('aliases set and show', () => {
  it('sets a plain alias and a split with shadow, guard and steps from flags, and shows them', async () => {
    const name = await threeVersions();
    const plain = await okJson(['aliases', 'set', name, 'staging', '1']);
    expect(plain).toMatchObject({ alias: 'staging', version: 1, routes: null, previous_version: null });
    expect((await ok(['aliases', 'show', name, 'staging'])).stdout).toMatch(
      new RegExp(`^${name} staging -> version 1\n  updated  +\\d{4}-\\d\\d-\\d\\d .*Z by admin\n$`),
    );
    // The older command keeps working, beside the new one.
    expect(await okJson(['models', 'alias', 'set', name, 'staging', '2'])).toMatchObject({
      version: 2,
      previous_version: 1,
    });

    const args = ['aliases', 'set', name, 'production', '--route', '1=90', '--route', '2=10', '--shadow', '3@25'];
    const guard = ['--guard', 'error_rate=0.02', '--guard', 'min_requests=200', '--guard', 'p99_ms=250'];
    const more = ['--guard', 'accuracy_drop=0.05', '--steps', '10,25,50,100', '--step-minutes', '30'];
    const set = await ok([...args, ...guard, ...more]);
    expect(set.stdout).toContain(`${name} production: ramping (revision 1)`);
    const split = await aliasOf(name);
    expect(split).toMatchObject({
      routes: [
        { version: 1, weight: 90 },
        { version: 2, weight: 10 },
      ],
      shadow: { version: 3, percent: 25 },
      guard: { min_requests: 200, max_error_rate: 0.02, max_p99_ms: 250, max_accuracy_drop: 0.05 },
      steps: [10, 25, 50, 100],
      step_minutes: 30,
      state: { status: 'ramping', next_step: 25 },
    });

    const shown = (await ok(['aliases', 'show', name, 'production'])).stdout;
    expect(shown).toMatch(/ROUTE\s+VERSION\s+WEIGHT\n\s+0\s+1\s+90%\n\s+1\s+2\s+10%/);
    expect(shown).toContain('shadow       version 3, 25% of requests mirrored');
    expect(shown).toContain('guard        min_requests 200, error rate ≤ 2.0%, p99 ≤ 250 ms, accuracy drop ≤ 5.0%');
    expect(shown).toMatch(/steps {8}10 → 25 → 50 → 100% every 30 min; next 25% at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    // --json is the API's answer as it is.
    expect(await okJson(['aliases', 'show', name, 'production'])).toEqual(split);

    const missing = await runCli(['aliases', 'show', name, 'nope', '--json']);
    expect(missing.code).toBe(6);
    expect(missing.error().error).toMatchObject({ status: 404, code: 'alias_not_found' });
  });

  it('names a bad flag and what it takes, and writes nothing', async () => {
    const name = await threeVersions();
    await ok(['aliases', 'set', name, 'production', '1']);
    const before = await aliasOf(name);
    const refused: [string[], string][] = [
      [
        ['--route', '3=abc', '--route', '1=90'],
        "--route 3=abc: the weight is a whole percent from 0 to 100, not 'abc'",
      ],
      [['--route', 'x=50', '--route', '1=50'], "--route x=50: the version is a version number, not 'x'"],
      [['--route', '3', '--route', '1=90'], '--route takes VERSION=WEIGHT, e.g. --route 3=90; not 3'],
      [['--route', '1=90', '--route', '2=10', '--shadow', '5'], '--shadow takes VERSION@PERCENT, e.g. --shadow 5@25'],
      [
        ['--route', '1=90', '--route', '2=10', '--shadow', '3@0'],
        "--shadow 3@0: the percent is above 0 and at most 100, not '0'",
      ],
      [
        ['--route', '1=90', '--route', '2=10', '--guard', 'foo=1'],
        "--guard does not know 'foo' (it takes error_rate, p99_ms, accuracy_drop, min_requests, min_feedback, window_minutes)",
      ],
      [
        ['--route', '1=90', '--route', '2=10', '--guard', 'eror_rate=0.1', '--guard', 'min_requests=5'],
        "did you mean 'error_rate'?",
      ],
      [
        ['--route', '1=90', '--route', '2=10', '--guard', 'error_rate=2', '--guard', 'min_requests=5'],
        "--guard error_rate takes a fraction from 0 to 1 (0.02 is 2%), not '2'",
      ],
      [
        ['--route', '1=90', '--route', '2=10', '--guard', 'min_requests=1.5', '--guard', 'error_rate=0.1'],
        "--guard min_requests takes a whole number, 1 or more, not '1.5'",
      ],
      [['--route', '1=90', '--route', '2=10', '--guard', 'error_rate=0.1'], '--guard needs min_requests=N'],
      [['--route', '1=90', '--route', '2=10', '--guard', 'min_requests=9'], '--guard needs a limit to judge by'],
      [
        ['--route', '1=90', '--route', '2=10', '--steps', '10,x', '--step-minutes', '5'],
        '--steps takes rising whole percents',
      ],
      [['--route', '1=90', '--route', '2=10', '--steps', '50,25', '--step-minutes', '5'], 'not 50,25'],
      [['--route', '1=90', '--route', '2=10', '--steps', '10,50'], '--steps and --step-minutes go together'],
      [
        ['--route', '1=90', '--route', '2=10', '--steps', '10,50', '--step-minutes', '0'],
        '--step-minutes takes a positive whole number, not 0',
      ],
      [['--route', '1=95', '--route', '2=10'], '--route weights add up to 105; they must add up to 100'],
      [['--route', '1=50', '--route', '1=50'], '--route names version 1 twice'],
      [['--route', '1=100'], 'one --route is not a split: for one version, give it as the argument'],
      [
        ['2', '--route', '1=50', '--route', '2=50'],
        'give a version (a plain alias) or --route flags (a split), not both',
      ],
      [['2', '--guard', 'min_requests=5', '--guard', 'error_rate=0.1'], '--guard needs a split'],
      [['two'], 'the version is a version number, not two'],
      [[], 'aliases set needs a version (a plain alias) or --route VERSION=WEIGHT'],
    ];
    for (const [flags, message] of refused) {
      const res = await runCli(['aliases', 'set', name, 'production', ...flags]);
      expect(res.code, `${flags.join(' ')}: ${res.stderr}`).toBe(1);
      expect(res.stderr, flags.join(' ')).toContain(message);
      expect(res.stdout).toBe('');
    }
    // Nothing was sent: the alias is as it was, and a new alias was never made.
    expect(await aliasOf(name)).toEqual(before);
    const none = await runCli(['aliases', 'set', name, 'fresh', '--route', '1=90', '--shadow', '5']);
    expect(none.code).toBe(1);
    expect((await runCli(['aliases', 'show', name, 'fresh'])).code).toBe(6);

    // What only the server knows, it says: a version the model does not have, one archived.
    const unknown = await runCli([
      'aliases',
      'set',
      name,
      'production',
      '--route',
      '1=90',
      '--route',
      '9=10',
      '--json',
    ]);
    expect(unknown.code).toBe(6);
    expect(unknown.error().error.message).toContain("model '" + name + "' has no version 9");
    await ok(['models', 'archive', name, '--version', '2']);
    const archived = await runCli(['aliases', 'set', name, 'production', '--route', '1=90', '--route', '2=10']);
    expect(archived.code).toBe(2);
    expect(archived.stderr).toContain('cannot route traffic to version 2: it is archived');
    expect(await aliasOf(name)).toEqual(before);
  });
});

describe('aliases scorecard, rollback and promote', () => {
  it('scores real traffic, shows the guard’s rollback, and rolls back and promotes by hand', async () => {
    const name = await threeVersions();
    // Version 3 wants five features: every request it gets answers 400.
    await ok([
      'aliases',
      'set',
      name,
      'production',
      '--route',
      '1=50',
      '--route',
      '3=50',
      '--shadow',
      '2@100',
      '--guard',
      'error_rate=0.1',
      '--guard',
      'min_requests=10',
    ]);
    const served = await traffic(name, 60);
    const failed = served.filter((v) => v === 0).length;
    expect(failed).toBeGreaterThanOrEqual(10);

    const card = await okJson(['aliases', 'scorecard', name, 'production', '--window', '15m']);
    expect(card.routes.map((r: any) => [r.version, r.requests, r.error_rate])).toEqual([
      [1, 60 - failed, 0],
      [3, failed, 1],
    ]);
    expect(card.routes[1].vs_first).toMatchObject({ enough_requests: true, error_rate: { significant: true } });
    expect(card.shadow).toMatchObject({ version: 2, errors: 0 });
    const text = (await ok(['aliases', 'scorecard', name, 'production'])).stdout;
    expect(text).toMatch(
      new RegExp(
        `ROUTE +VERSION +WEIGHT +REQUESTS +ERRORS +ERROR RATE +P50 MS +P95 MS +P99 MS +CACHE HITS +ACCURACY +DRIFT\n` +
          `0 +1 +\\d+% +${60 - failed} +0 +0\\.0% [^\n]*\n` +
          `1 +3 +\\d+% +${failed} +${failed} +100\\.0% `,
      ),
    );
    expect(text).toMatch(
      /route 1 \(version 3\) against route 0 \(version 1\):\n {2}error rate +\+100\.00 pp \(p<0\.001\): SIGNIFICANT/,
    );
    expect(text).toMatch(
      /shadow version 2 \(100% mirrored\): \d+ requests, 0 errors \(0\.0%\), \d+ rows compared\n {2}labels agree \d/,
    );
    const badWindow = await runCli(['aliases', 'scorecard', name, 'production', '--window', '90d']);
    expect(badWindow.code).toBe(2);
    expect(badWindow.stderr).toContain('window');

    // The guard judges on the cron (and as counts are written): the candidate goes.
    await expect
      .poll(
        async () => {
          await fireRolloutCron();
          return (await aliasOf(name)).state.status;
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe('rolled_back');
    const shown = (await ok(['aliases', 'show', name, 'production'])).stdout;
    expect(shown).toContain(`${name} production: rolled back`);
    expect(shown).toMatch(
      /rolled back {2}\S+ \S+Z by the guard: route 1 \(version 3\) max_error_rate 100\.0% > 10\.0%/,
    );
    expect(shown).toMatch(/\n\s+0\s+1\s+100%\n\s+1\s+3\s+0%/);
    const series = await okJson(['aliases', 'series', name, 'production', '--window', '15m']);
    expect(series.events.map((e: any) => [e.kind, e.by])).toEqual([
      ['set', null],
      ['rolled_back', 'guard'],
    ]);
    expect(series.routes.map((r: any) => r.version)).toEqual([1, 3]);
    // Rolled back already: rollback answers it as it stands, without asking.
    expect((await okJson(['aliases', 'rollback', name, 'production'])).state.status).toBe('rolled_back');

    // By hand: asks (no terminal here: needs --yes, and nothing happens without it).
    await ok(['aliases', 'set', name, 'canary', '--route', '1=60', '--route', '2=40']);
    const canary = await aliasOf(name, 'canary');
    const unasked = await runCli(['aliases', 'rollback', name, 'canary']);
    expect(unasked.code).toBe(1);
    expect(unasked.stderr).toContain(
      `aliases rollback ${name} canary sends all of canary's traffic to version 1 and stops its steps: pass --yes`,
    );
    expect(await aliasOf(name, 'canary')).toEqual(canary);
    const rolled = await okJson(['aliases', 'rollback', name, 'canary', '--yes']);
    expect(rolled.routes).toEqual([
      { version: 1, weight: 100 },
      { version: 2, weight: 0 },
    ]);
    expect(rolled.state).toMatchObject({ status: 'rolled_back', rollback: { by: 'hand', breaches: [] } });

    const unpromoted = await runCli(['aliases', 'promote', name, 'canary']);
    expect(unpromoted.code).toBe(1);
    expect(unpromoted.stderr).toContain("sends all of canary's traffic to version 2 and ends its split");
    const notARoute = await runCli(['aliases', 'promote', name, 'canary', '--version', '3', '--yes']);
    expect(notARoute.code).toBe(2);
    expect(notARoute.stderr).toContain('version 3 is not a route of alias');
    const promoted = await ok(['aliases', 'promote', name, 'canary', '--version', '1', '--yes']);
    expect(promoted.stdout).toMatch(new RegExp(`^${name} canary -> version 1\n {2}promoted {5}\\S+ \\S+Z by hand\n`));
    expect((await ok(['aliases', 'show', name, 'canary'])).stdout).toMatch(/\n {2}promoted {5}\S+ \S+Z by hand\n/);
    expect(await aliasOf(name, 'canary')).toMatchObject({ version: 1, routes: null, state: { status: 'plain' } });
    // A plain alias has nothing to promote or roll back: the server says so (409).
    for (const verb of ['promote', 'rollback']) {
      const plain = await runCli(['aliases', verb, name, 'canary', '--yes', '--json']);
      expect(plain.code, verb).toBe(2);
      expect(plain.error().error).toMatchObject({ status: 409, code: 'alias_not_split' });
    }
  });
});
