// `npm run bench:passwords`: CPU time of one password hash and one verification inside workerd,
// per scrypt cost, and of the former PBKDF2 verification. The bundle is built as production's
// is; workerd's CPU is read from /proc around each batch of hashes (the Workers clock does not
// advance while code runs), so the figures are CPU, not wall time. Peak memory is the process's
// high-water mark, which grows by scrypt's 128·N·r bytes the first time a cost is used.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPid, cpuMs } from './proc-cpu.mjs';
import { build, serve } from './serve.mjs';
import { readFileSync } from 'node:fs';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const COSTS = [
  { ln: 14, r: 8, p: 1 },
  { ln: 14, r: 8, p: 5 },
  { ln: 15, r: 8, p: 1 },
  { ln: 15, r: 8, p: 3 },
  { ln: 16, r: 8, p: 1 },
  { ln: 16, r: 8, p: 2 },
  { ln: 17, r: 8, p: 1 },
];

const highWaterMiB = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
  return line ? Math.round(Number(line[1]) / 1024) : null;
};

const work = mkdtempSync(join(tmpdir(), 'modelflare-passwords-'));
let server;
try {
  const bundle = build('scripts/bench/password-worker.ts', join(work, 'bundle'));
  server = await serve({
    bundle,
    persistDir: join(work, 'state'),
    port: 0,
    vars: { JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789' },
    stdio: (out, err) => err.on('data', (d) => process.stderr.write(d)),
  });
  const pid = childPid('workerd');
  if (!pid) throw new Error('workerd process not found');
  const call = async (path) => {
    const res = await fetch(`${server.url}${path}`).catch((err) => {
      throw new Error(`${path}: ${err.cause?.message ?? err.message}`);
    });
    if (!res.ok || !(await res.json()).ok) throw new Error(`${path}: ${res.status}`);
  };
  // One hash per request, as a login is: CPU over ROUNDS requests, per request.
  const measure = async (path) => {
    await call(path); // warm: the first use of a cost allocates its memory
    const before = cpuMs(pid);
    for (let i = 0; i < ROUNDS; i++) await call(path);
    return (cpuMs(pid) - before) / ROUNDS;
  };
  const rows = [];
  for (const { ln, r, p } of COSTS) {
    const q = `ln=${ln}&r=${r}&p=${p}`;
    const hash = await measure(`/hash?n=1&${q}`);
    // /verify hashes once to have something to verify, then verifies twice: the difference is one.
    const verify = (await measure(`/verify?n=2&${q}`)) - (await measure(`/verify?n=1&${q}`));
    rows.push({
      scheme: `scrypt N=2^${ln} r=${r} p=${p}`,
      memory_mib: (128 * 2 ** ln * r) / 2 ** 20,
      hash_cpu_ms: Math.round(hash),
      verify_cpu_ms: Math.round(verify),
      workerd_peak_rss_mib: highWaterMiB(pid),
    });
  }
  const pbkdf2 = (await measure('/pbkdf2?n=2')) - (await measure('/pbkdf2?n=1'));
  rows.push({
    scheme: 'pbkdf2-sha256 100,000',
    memory_mib: 0,
    hash_cpu_ms: Math.round(pbkdf2),
    verify_cpu_ms: Math.round(pbkdf2),
  });
  await call('/login?register&email=bench@example.com');
  const signIn = await measure('/login?email=bench@example.com');
  rows.push({
    scheme: `login (account service, scrypt N=2^14 r=8 p=5)`,
    hash_cpu_ms: null,
    verify_cpu_ms: Math.round(signIn),
  });
  console.table(rows);
  console.log(JSON.stringify({ rounds: ROUNDS, cpus: (await import('node:os')).cpus()[0]?.model, rows }));
} finally {
  await server?.dispose();
  rmSync(work, { recursive: true, force: true });
}
