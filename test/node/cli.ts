/*
 * Runs the CLI as a user would: `node scripts/cli/modelflare.mjs …` in a child process, with
 * its own HOME and config file, against the Node project's local server.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createClient } from '../../scripts/cli/client.mjs';
import { ROOT } from './server';

export const CLI = join(ROOT, 'scripts/cli/modelflare.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json). */
  json: () => any;
  /** The `--json` error object printed on stderr. */
  error: () => any;
}

export interface CliOptions {
  /** Extra environment; MODELFLARE_URL and MODELFLARE_TOKEN default to the server and its admin key. */
  env?: Record<string, string | undefined>;
  input?: string;
}

const homes = mkdtempSync(join(tmpdir(), 'modelflare-cli-'));
process.once('exit', () => rmSync(homes, { recursive: true, force: true }));

let homeCount = 0;
/** A fresh home for one test's config file (all removed when the test process ends). */
export function tempHome(): string {
  homeCount += 1;
  const home = join(homes, String(homeCount));
  mkdirSync(home);
  return home;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const server = inject('server');
  const home = options.env?.HOME ?? tempHome();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    MODELFLARE_CONFIG: join(home, 'config.json'),
    MODELFLARE_URL: server.url,
    MODELFLARE_TOKEN: server.adminKey,
  };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        const parse = (text: string, what: string) => () => {
          try {
            return JSON.parse(text);
          } catch {
            throw new Error(`${what} of modelflare ${args.join(' ')} (exit ${code}) is not JSON:\n${text}\n${stderr}`);
          }
        };
        done({ code, stdout, stderr, json: parse(stdout, 'stdout'), error: parse(stderr, 'stderr') });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** The typed API client of the CLI, as the admin, for setting things up directly. */
export function adminApi() {
  const server = inject('server');
  return createClient({ url: server.url, token: server.adminKey });
}

let counter = 0;
/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}
