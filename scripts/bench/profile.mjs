#!/usr/bin/env node
// `npm run bench:profile -- [--path full|floorB|hit|miss|instances|floorA] [--model iris] [-c 32]`:
// a CPU profile of the isolate under load, taken through workerd's inspector (Miniflare's
// inspectorPort), summed by function. Shows where a request's CPU goes, garbage collection
// included. Writes bench/out/profile-<path>-<model>.cpuprofile (open it in Chrome DevTools).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { devtools, moduleOfLine, sampleModule, startProfile } from './inspector.mjs';
import { runJob } from './load.mjs';
import { check, floorAJob, pathJobs, withInspectedServer } from './setup.mjs';

const { values: opts } = parseArgs({
  options: {
    path: { type: 'string', default: 'full' },
    model: { type: 'string', default: 'iris' },
    c: { type: 'string', short: 'c', default: '32' },
    'duration-ms': { type: 'string', default: '4000' },
    top: { type: 'string', default: '30' },
  },
});

/** Self time per source module (see moduleOfLine), largest first. */
function selfTimeByModule(profile, moduleOf) {
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  const byModule = new Map();
  for (const node of profile.nodes) {
    const key = sampleModule(node, moduleOf);
    byModule.set(key, (byModule.get(key) ?? 0) + node.hitCount * interval);
  }
  return [...byModule.entries()].sort((a, b) => b[1] - a[1]);
}

/** Self time per function, largest first. */
function summarizeProfile(profile) {
  const total = profile.endTime - profile.startTime;
  const interval = total / Math.max(1, profile.samples.length);
  const byName = new Map();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? url.split('/').pop() : '';
    const key = `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`;
    byName.set(key, (byName.get(key) ?? 0) + node.hitCount * interval);
  }
  return { totalMs: total / 1000, rows: [...byName.entries()].sort((a, b) => b[1] - a[1]) };
}

await withInspectedServer('profile', async ({ server, models, predictKey, inspectorPort, work }) => {
  const m = models.find((x) => x.name === opts.model);
  const jobs = {
    floorA: { job: floorAJob(server.url) },
    ...pathJobs({ origin: server.url, token: predictKey, model: m }),
  };
  check(jobs[opts.path] && opts.path !== 'miss', `--path: one of floorA, floorB, full, hit, instances`);
  const job = { ...jobs[opts.path].job, connections: Number(opts.c), maxRequests: 1_000_000 };
  await runJob({ ...job, durationMs: 1000 }); // warm-up

  const dt = await devtools(inspectorPort);
  const stopProfile = await startProfile(dt, 100);
  const result = await runJob({ ...job, durationMs: Number(opts['duration-ms']) });
  const profile = await stopProfile();
  dt.close();

  const file = join(work, `profile-${opts.path}-${m.name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const { totalMs, rows } = summarizeProfile(profile);
  const idleMs = (rows.find(([k]) => k.startsWith('(idle)'))?.[1] ?? 0) / 1000;
  const busyUsPerRequest = ((totalMs - idleMs) * 1000) / result.requests;
  console.log(
    `${opts.path} ${m.name} c=${opts.c}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(3)} ms, ` +
      `p99 ${result.p99.toFixed(2)} ms; ${totalMs.toFixed(0)} ms profiled, ${busyUsPerRequest.toFixed(1)} µs busy per request`,
  );
  for (const [name, us] of rows.slice(0, Number(opts.top))) {
    console.log(
      `${((us / 1000 / totalMs) * 100).toFixed(1).padStart(5)}%  ${(us / result.requests).toFixed(2).padStart(7)} µs/req  ${name}`,
    );
  }
  console.log('\nself time by source module:');
  const moduleOf = moduleOfLine(join(work, 'worker', 'worker.js'));
  for (const [name, us] of selfTimeByModule(profile, moduleOf).slice(0, Number(opts.top))) {
    console.log(`${(us / result.requests).toFixed(2).padStart(7)} µs/req  ${name}`);
  }
  console.log(`wrote ${file}`);
});
