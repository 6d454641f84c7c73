#!/usr/bin/env node
// `npm run bench:tails`: where the 50-200 ms tail stalls under load come from. For each
// experiment it drives c=32 load while the isolate is being CPU-profiled through workerd's
// inspector, groups the slow responses into stall windows by when they ended, and reports
// what the isolate was doing in those windows: garbage collection, other work, or nothing
// (idle: the stall is outside the isolate). Writes bench/out/tails.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { devtools, moduleOfLine, sampleModule, startProfile } from './inspector.mjs';
import { runJob } from './load.mjs';
import { floorAJob, pathJobs, switchLog, withInspectedServer } from './setup.mjs';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string', default: 'iris' },
    c: { type: 'string', short: 'c', default: '32' },
    'duration-ms': { type: 'string', default: '4000' },
    'slow-ms': { type: 'string', default: '20' },
    'interval-us': { type: 'string', default: '200' },
  },
});
const SLOW = Number(opts['slow-ms']);

/** Each sample's time (µs, monotonic), what it was (gc, idle, program or js) and its source module. */
function sampleTimeline(profile, moduleOf) {
  const modules = new Map(profile.nodes.map((n) => [n.id, sampleModule(n, moduleOf)]));
  const kind = new Map(
    profile.nodes.map((n) => {
      const name = n.callFrame.functionName;
      return [
        n.id,
        name === '(garbage collector)'
          ? 'gc'
          : name === '(idle)'
            ? 'idle'
            : name === '(program)' || name === '(root)'
              ? 'program'
              : 'js',
      ];
    }),
  );
  const times = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    times.push([t, kind.get(profile.samples[i]), modules.get(profile.samples[i])]);
  }
  return times;
}

/** The longest stretch of consecutive GC samples, in ms. */
function longestGc(samples) {
  let longest = 0;
  let start = null;
  for (const [t, k] of samples) {
    if (k === 'gc') start ??= t;
    else if (start !== null) {
      longest = Math.max(longest, t - start);
      start = null;
    }
  }
  return longest / 1000;
}

/** Slow responses grouped by overlap of their [start, end] intervals: one window per stall. */
function stallWindows(timeline) {
  const slow = timeline
    .filter(([, ms]) => ms > SLOW)
    .map(([end, ms]) => [end - ms * 1000, end])
    .sort((a, b) => a[0] - b[0]);
  const windows = [];
  for (const [start, end] of slow) {
    const last = windows[windows.length - 1];
    if (last && start <= last.end) {
      last.end = Math.max(last.end, end);
      last.responses += 1;
    } else windows.push({ start, end, responses: 1 });
  }
  return windows;
}

/** The modules that take a larger share of the isolate during stalls than overall, most first. */
function overRepresented(inStalls, overall) {
  const total = (m) => [...m.values()].reduce((a, b) => a + b, 0) || 1;
  const [s, o] = [total(inStalls), total(overall)];
  return [...inStalls.entries()]
    .map(([name, n]) => ({ name, in_stalls_pct: (n / s) * 100, overall_pct: ((overall.get(name) ?? 0) / o) * 100 }))
    .filter((x) => x.in_stalls_pct >= 2 && x.in_stalls_pct > 1.5 * x.overall_pct)
    .sort((a, b) => b.in_stalls_pct - a.in_stalls_pct)
    .slice(0, 5)
    .map((x) => ({
      ...x,
      in_stalls_pct: Math.round(x.in_stalls_pct * 10) / 10,
      overall_pct: Math.round(x.overall_pct * 10) / 10,
    }));
}

function describe(name, result, profile, moduleOf) {
  const samples = sampleTimeline(profile, moduleOf);
  const modulesInWindows = new Map();
  const modulesOverall = new Map();
  const windows = stallWindows(result.timeline);
  const inWindows = { gc: 0, idle: 0, program: 0, js: 0 };
  const overall = { gc: 0, idle: 0, program: 0, js: 0 };
  let w = 0;
  for (const [t, k, module] of samples) {
    overall[k] += 1;
    modulesOverall.set(module, (modulesOverall.get(module) ?? 0) + 1);
    while (w < windows.length && windows[w].end < t) w++;
    if (w < windows.length && windows[w].start <= t) {
      inWindows[k] += 1;
      modulesInWindows.set(module, (modulesInWindows.get(module) ?? 0) + 1);
    }
  }
  const share = (counts) => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Math.round((v / total) * 1000) / 10]));
  };
  const stalledMs = windows.reduce((s, x) => s + (x.end - x.start) / 1000, 0);
  return {
    experiment: name,
    requests: result.requests,
    rps: Math.round(result.rps),
    p50_ms: result.p50,
    p99_ms: result.p99,
    max_ms: result.max,
    slow_responses: result.timeline.filter(([, ms]) => ms > SLOW).length,
    stall_windows: windows.length,
    responses_per_window: windows.length
      ? Math.round((windows.reduce((s, x) => s + x.responses, 0) / windows.length) * 10) / 10
      : 0,
    stalled_ms: Math.round(stalledMs),
    isolate_in_stalls_pct: share(inWindows),
    isolate_overall_pct: share(overall),
    longest_gc_ms: Math.round(longestGc(samples) * 10) / 10,
    over_represented_in_stalls: overRepresented(modulesInWindows, modulesOverall),
  };
}

await withInspectedServer('tails', async ({ server, models, predictKey, inspectorPort, work }) => {
  const m = models.find((x) => x.name === opts.model);
  const jobs = pathJobs({ origin: server.url, token: predictKey, model: m });
  const experiments = [
    ['floor A through Miniflare’s entry worker', floorAJob(server.entryUrl)],
    ['floor A (constant JSON, direct socket)', floorAJob(server.url)],
    ['floor B (session.run)', jobs.floorB.job],
    ['full, access log on', jobs.full.job],
    ['full, access log off', jobs.full.job, 'off'],
    ['cache hit (KV read)', jobs.hit.job],
    ['cache miss (KV read + write in waitUntil)', { ...jobs.miss.job, vary: [...jobs.miss.job.vary, 0] }],
  ];
  const dt = await devtools(inspectorPort);
  const moduleOf = moduleOfLine(join(work, 'worker', 'worker.js'));
  const rows = [];
  for (const [name, job, log] of experiments) {
    await switchLog(server.url, log ?? 'on');
    const base = { ...job, connections: Number(opts.c), maxRequests: 1_000_000 };
    await runJob({ ...base, durationMs: 500 }); // warm-up
    const stop = await startProfile(dt, Number(opts['interval-us']));
    const result = await runJob({ ...base, settleMs: 250, durationMs: Number(opts['duration-ms']), timeline: true });
    const row = describe(name, result, await stop(), moduleOf);
    rows.push(row);
    console.log(
      `${name}: ${row.rps} req/s, p50 ${row.p50_ms.toFixed(2)} p99 ${row.p99_ms.toFixed(1)} max ${row.max_ms.toFixed(0)} ms; ` +
        `${row.slow_responses} responses > ${SLOW} ms in ${row.stall_windows} windows (${row.responses_per_window} each), ` +
        `isolate during stalls ${JSON.stringify(row.isolate_in_stalls_pct)}, overall ${JSON.stringify(row.isolate_overall_pct)}, longest GC ${row.longest_gc_ms} ms`,
    );
    for (const x of row.over_represented_in_stalls) {
      console.log(`    more during stalls: ${x.name} ${x.in_stalls_pct}% (overall ${x.overall_pct}%)`);
    }
  }
  await switchLog(server.url, 'on');
  dt.close();

  // What one console.log costs once a request logs at all, from a request that logs many lines.
  const timeLoop = async (n) => {
    const start = performance.now();
    const res = await fetch(`${server.url}/__bench/log-loop?n=${n}&len=200`);
    await res.arrayBuffer();
    return performance.now() - start;
  };
  await timeLoop(1000);
  const perLineUs = ((Math.min(await timeLoop(20000), await timeLoop(20000)) - (await timeLoop(0))) * 1000) / 20000;
  console.log(`console.log of a 200-character line, in a loop within one request: ${perLineUs.toFixed(1)} µs`);
  writeFileSync(
    join(work, 'tails.json'),
    `${JSON.stringify({ model: m.name, concurrency: Number(opts.c), slow_ms: SLOW, rows, console_log_us_in_loop: perLineUs }, null, 2)}\n`,
  );
  console.log(`wrote ${join(work, 'tails.json')}`);
});
