// The isolate's memory over the run: the V8 heap after a full collection (what a leak grows)
// and the workerd process's resident set (which also holds ORT's WASM memory and Miniflare's
// local stores). workerd's inspector never answers HeapProfiler.collectGarbage, but a heap
// snapshot collects first: one is taken (and discarded) before each reading.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devtools } from '../bench/inspector.mjs';
import { childPid, rssMiB } from '../bench/proc-cpu.mjs';

const MiB = 2 ** 20;

/** `snapshotDir`: where to keep each reading's heap snapshot (for hunting a leak), if anywhere. */
export async function startMemorySampler(inspectorPort, everyMs, snapshotDir) {
  let chunks = [];
  const dt = await devtools(inspectorPort, snapshotDir ? { snapshotChunk: (c) => chunks.push(c) } : {});
  const pid = childPid('workerd');
  const started = Date.now();
  const samples = [];
  const sample = async (label) => {
    await dt.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const heap = await dt.send('Runtime.getHeapUsage');
    const s = Math.round((Date.now() - started) / 1000);
    if (snapshotDir) {
      writeFileSync(
        join(snapshotDir, `heap-${String(s).padStart(4, '0')}s${label ? `-${label}` : ''}.heapsnapshot`),
        chunks.join(''),
      );
      chunks = [];
    }
    samples.push({ s, heapMiB: +(heap.usedSize / MiB).toFixed(1), rssMiB: rssMiB(pid), ...(label ? { label } : {}) });
  };
  await sample('start');
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, everyMs));
      if (!stopped) await sample().catch((err) => console.error(`memory reading failed: ${err.message}`));
    }
  })();
  return {
    samples,
    /** Stops the readings during load. */
    async stopLoad() {
      stopped = true;
      await loop;
    },
    /** A last reading once every job has ended: what the isolate keeps when idle. */
    async finish() {
      await sample('idle');
      dt.close();
      return samples;
    },
  };
}

/** Readings the second half of the load needs before a line through them says anything. */
export const MIN_TREND_READINGS = 3;

/**
 * Flat means the heap after collection has stopped growing: over the second half of the load
 * (the first fills the bounded caches: sessions, resolutions, the isolate's prediction copies),
 * a least-squares line through the readings rises by no more than `tolerance` of their mean.
 * With fewer than MIN_TREND_READINGS readings in that half there is no verdict (`flat: null`).
 */
export function memoryTrend(samples, tolerance = 0.05) {
  const start = samples.find((s) => s.label === 'start');
  const load = samples.filter((s) => !s.label);
  const half = load.slice(Math.floor(load.length / 2));
  const n = half.length;
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ts = half.map((s) => s.s);
  const hs = half.map((s) => s.heapMiB);
  const judged = n >= MIN_TREND_READINGS;
  const [mt, mh] = [mean(ts), mean(hs)];
  const slope = judged
    ? ts.reduce((a, t, i) => a + (t - mt) * (hs[i] - mh), 0) / ts.reduce((a, t) => a + (t - mt) ** 2, 0) || 0
    : null;
  const rise = judged ? slope * (ts[n - 1] - ts[0]) : null;
  return {
    /** The reading taken once the setup was done, before the load began. */
    beforeLoad: start ? { s: start.s, heapMiB: start.heapMiB } : null,
    /** The first reading of the second half of the load, and the last reading under load. */
    secondHalfFrom: half[0] ? { s: half[0].s, heapMiB: half[0].heapMiB } : null,
    lastUnderLoad: half[n - 1] ? { s: half[n - 1].s, heapMiB: half[n - 1].heapMiB } : null,
    readingsUnderLoad: load.length,
    secondHalfReadings: n,
    secondHalfRiseMiB: judged ? +rise.toFixed(2) : null,
    growth: judged ? +(rise / mh).toFixed(3) : null,
    flat: judged ? rise / mh <= tolerance : null,
  };
}
