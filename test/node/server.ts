/*
 * The real worker on this machine, for tests that act as a client over the network (the CLI,
 * the examples, a browser): `wrangler dev` in local mode on a free port, with its own state
 * directory, secrets and migrations, in its own process group so that stopping it stops
 * workerd too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

export interface LocalServer {
  url: string;
  adminKey: string;
  /** The native runner's URL, when started with `runner: true`. */
  runnerUrl?: string;
  /** What wrangler and the worker printed so far (for failure messages). */
  logs(): string;
  /** The same, as a file other processes can read while the server runs. */
  logFile: string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Variables and secrets on top of wrangler.toml's and the defaults below (ENVIRONMENT `development`). */
  vars?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Also start the native runner (runner/src/server.mjs) as a Node process, as npm start does. */
  runner?: boolean;
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

const wranglerEnv = () => ({ ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: 'true' });

export async function startLocalServer(options: ServerOptions = {}): Promise<LocalServer> {
  const dir = mkdtempSync(join(tmpdir(), 'modelflare-server-'));
  const adminKey = `mf_admin_test_${randomBytes(16).toString('hex')}`;
  const runnerToken = `mf_runner_test_${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const runnerPort = options.runner ? await freePort() : undefined;
  const runnerUrl = runnerPort ? `http://127.0.0.1:${runnerPort}` : undefined;
  const vars = {
    ENVIRONMENT: 'development',
    ADMIN_API_KEY: adminKey,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Tests run many commands quickly from one address and one key.
    RATE_LIMIT_MANAGEMENT: '100000',
    RATE_LIMIT_PREDICTION: '100000',
    RATE_LIMIT_AUTH: '100000',
    RUNNER_TOKEN: runnerToken,
    ...(runnerUrl ? { RUNNER_URL: runnerUrl } : {}),
    ...options.vars,
  };
  // An explicit env file, so that a developer's .dev.vars (from `npm start`) is not read.
  const envFile = join(dir, 'test.env');
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    { mode: 0o600 },
  );
  const state = join(dir, 'state');

  const migrate = spawnSync(
    process.execPath,
    [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state],
    { cwd: ROOT, env: wranglerEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (migrate.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  }

  let output = '';
  const logFile = join(dir, 'server.log');
  writeFileSync(logFile, '');
  const record = (d: Buffer) => {
    output += d;
    appendFileSync(logFile, d);
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [
      WRANGLER,
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--local',
      '--persist-to',
      state,
      '--env-file',
      envFile,
      '--show-interactive-dev-session=false',
      '--log-level',
      'warn',
    ],
    { cwd: ROOT, env: wranglerEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const runner = runnerPort
    ? spawn(process.execPath, [join(ROOT, 'runner/src/server.mjs')], {
        cwd: ROOT,
        env: {
          ...process.env,
          HOST: '127.0.0.1',
          PORT: String(runnerPort),
          RUNNER_TOKEN: runnerToken,
          MODEL_SOURCE_URL: url,
          RUNNER_THREADS: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
    : undefined;
  runner?.stdout?.on('data', (d) => (output += d));
  runner?.stderr?.on('data', (d) => (output += d));
  const killGroup = (signal: NodeJS.Signals) => {
    for (const pid of [child.pid, runner?.pid]) {
      try {
        if (pid) process.kill(-pid, signal);
      } catch {
        // already gone
      }
    }
  };
  // If the test process dies without teardown, the server must not outlive it.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    // workerd may outlive wrangler for a moment; the group kill reaches it too.
    killGroup('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited with code ${child.exitCode}:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/v2/health/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not become ready on ${url}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, adminKey, runnerUrl, logs: () => output, logFile, stop };
}
