// Builds the worker as `wrangler deploy` would and serves it on workerd through Miniflare's
// API: no `wrangler dev` proxy between the load and the isolate. Bindings come from
// wrangler.toml (unstable_getMiniflareWorkerOptions); data lives in a temp dir.
import childProcess, { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };

/*
 * Miniflare does not say when workerd dies; a crash would only show as refused connections.
 * Its spawn goes through this module object, so the exit is reported here.
 */
let disposing = false;
const spawnWorkerd = childProcess.spawn;
childProcess.spawn = (command, ...rest) => {
  const child = spawnWorkerd(command, ...rest);
  if (String(command).includes('workerd')) {
    child.on('exit', (code, signal) => {
      if (!disposing) console.error(`workerd (pid ${child.pid}) exited: code ${code}, signal ${signal}`);
    });
  }
  return child;
};

/** The Miniflare that wrangler itself uses: its option format is the one wrangler's helper emits. */
async function wranglerMiniflare() {
  const path = createRequire(require.resolve('wrangler')).resolve('miniflare');
  return import(pathToFileURL(path).href);
}

/**
 * `wrangler deploy --dry-run` of `entry` into `outdir`: the bundle production would upload.
 * Answers the directory and the bundled entry's file name.
 */
export function build(entry, outdir) {
  const args = ['wrangler', 'deploy', entry, '--dry-run', '--outdir', outdir, '--env', ''];
  const result = spawnSync('npx', args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return { dir: resolve(outdir), main: `${basename(entry, extname(entry))}.js` };
}

const MODULE_TYPES = [
  [/\.wasm$/, 'CompiledWasm'],
  [/\.(css|js)$/, 'Text'],
  [/\.onnx$/, 'Data'],
];

/** The bundle's files as Miniflare modules; the entry first. */
function modulesOf({ dir: outdir, main }) {
  const extra = readdirSync(outdir)
    .filter((f) => f !== main && !f.endsWith('.map') && !f.endsWith('.md'))
    .map((f) => {
      const type = MODULE_TYPES.find(([re]) => re.test(f))?.[1];
      if (!type) throw new Error(`unexpected file in the bundle: ${f}`);
      return { type, path: join(outdir, f), contents: readFileSync(join(outdir, f)) };
    });
  return [{ type: 'ESModule', path: join(outdir, main) }, ...extra];
}

function applyMigrationsSql(dir = 'migrations') {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

/**
 * Starts workerd with the bundle `build` made. `vars` add to (and override) wrangler.toml's;
 * `stdio` receives workerd's stdout/stderr streams (the worker's console output).
 */
export async function serve({ bundle, persistDir, port, vars = {}, stdio, inspectorPort }) {
  const { Miniflare } = await wranglerMiniflare();
  const wrangler = await import('wrangler');
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions('wrangler.toml', '');
  const options = {
    ...workerOptions,
    name: 'modelflare',
    modulesRules: undefined,
    modules: modulesOf(bundle),
    modulesRoot: bundle.dir,
    bindings: { ...workerOptions.bindings, ...vars },
    host: '127.0.0.1',
    port,
    d1Persist: join(persistDir, 'd1'),
    r2Persist: join(persistDir, 'r2'),
    kvPersist: join(persistDir, 'kv'),
    cachePersist: join(persistDir, 'cache'),
    durableObjectsPersist: join(persistDir, 'do'),
    handleRuntimeStdio: stdio,
    inspectorPort,
    // A socket straight into the worker, as production's front line reaches it; the default
    // one passes every request through Miniflare's entry worker first.
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
  };
  let mf = new Miniflare(options);
  let url;
  let entryUrl;
  const connect = async () => {
    entryUrl = await mf.ready;
    url = await mf.unsafeGetDirectURL();
  };
  await connect();
  const db = await mf.getD1Database('DB');
  for (const sql of applyMigrationsSql()) {
    for (const statement of sql.split('--> statement-breakpoint')) {
      if (statement.trim()) await db.prepare(statement).run();
    }
  }
  return {
    /** The worker's own socket: what the bench measures. */
    get url() {
      return url.href.replace(/\/$/, '');
    },
    /** Miniflare's usual address, through its entry worker: measured once, for comparison. */
    get entryUrl() {
      return entryUrl.href.replace(/\/$/, '');
    },
    /**
     * A new workerd process, so a new isolate: what a cold start begins with. `vars`, when
     * given, add to (and override) the variables from then on.
     */
    async restart(vars) {
      disposing = true;
      await mf.dispose();
      disposing = false;
      if (vars) options.bindings = { ...options.bindings, ...vars };
      mf = new Miniflare(options);
      await connect();
    },
    dispose: () => {
      disposing = true;
      return mf.dispose();
    },
  };
}
