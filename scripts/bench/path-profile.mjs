#!/usr/bin/env node
// `npm run bench:path -- [--model iris] [--path v2|instances] [-n 20000]`: one prediction path
// run n times inside the isolate (the bench bundle's /__bench/loop: no network, no load
// generator, the access log's console.log silenced), under workerd's CPU profiler. Prints the
// self time per request by source module and by function: where the path's CPU goes beside
// session.run, which `npm run bench` compares against floor B.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { devtools, moduleOfLine, sampleModule, startProfile } from './inspector.mjs';
import { switchLog, withInspectedServer } from './setup.mjs';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string', default: 'iris' },
    path: { type: 'string', default: 'v2' },
    n: { type: 'string', short: 'n', default: '20000' },
    top: { type: 'string', default: '40' },
  },
});
const N = Number(opts.n);

await withInspectedServer('path-profile', async ({ server, models, predictKey, inspectorPort, work }) => {
  const m = models.find((x) => x.name === opts.model);
  const headers = {
    authorization: `Bearer ${predictKey}`,
    'content-type': 'application/json',
    'cache-control': 'no-store',
  };
  const spec =
    opts.path === 'instances'
      ? { method: 'POST', path: `/v1/models/${m.name}/predict`, headers, body: m.instancesBody }
      : { method: 'POST', path: `/v2/models/${m.name}/infer`, headers, body: m.body };
  await switchLog(server.url, 'off');
  const loop = async (n) =>
    (await fetch(`${server.url}/__bench/loop`, { method: 'POST', body: JSON.stringify({ ...spec, n }) })).json();
  await loop(Math.min(2000, N));
  const dt = await devtools(inspectorPort);
  const stop = await startProfile(dt, 50);
  const result = await loop(N);
  const profile = await stop();
  dt.close();
  const total = profile.endTime - profile.startTime;
  const interval = total / profile.samples.length;
  const moduleOf = moduleOfLine(join(work, 'worker', 'worker.js'));
  const byModule = new Map();
  const byFunction = new Map();
  for (const node of profile.nodes) {
    const us = node.hitCount * interval;
    const module = sampleModule(node, moduleOf);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
    const fn = `${node.callFrame.functionName || '(anonymous)'}  ${module}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const top = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top));
  console.log(
    `${opts.path} ${m.name}: ${N} requests in ${result.ms} ms; ${(total / N).toFixed(1)} µs profiled per request`,
  );
  console.log('\nself time per request, by source module:');
  for (const [name, us] of top(byModule)) console.log(`${(us / N).toFixed(2).padStart(8)} µs  ${name}`);
  console.log('\nby function:');
  for (const [name, us] of top(byFunction)) console.log(`${(us / N).toFixed(2).padStart(8)} µs  ${name}`);
});
