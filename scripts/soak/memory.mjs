// The isolate's memory over the run: the V8 heap after a full collection (what a leak grows)
// and the workerd process's resident set (which also holds ORT's WASM memory and Miniflare's
// local stores). workerd's inspector never answers HeapProfiler.collectGarbage, but a heap
// snapshot collects first: one is taken (and discarded) before each reading.
import { devtools } from '../bench/inspector.mjs';
import { childPid, rssMiB } from '../bench/proc-cpu.mjs';

const MiB = 2 ** 20;

export async function startMemorySampler(inspectorPort, everyMs) {
  const dt = await devtools(inspectorPort);
  const pid = childPid('workerd');
  const started = Date.now();
  const samples = [];
  const sample = async (label) => {
    await dt.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const heap = await dt.send('Runtime.getHeapUsage');
    const s = Math.round((Date.now() - started) / 1000);
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

/**
 * Flat means the heap after collection in the load's last quarter is within `tolerance` of the
 * second quarter's (the first holds warm-up: sessions, compiled code, caches filling).
 */
export function memoryTrend(samples, tolerance = 0.1) {
  const load = samples.filter((s) => !s.label).map((s) => s.heapMiB);
  const quarter = Math.max(1, Math.floor(load.length / 4));
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(load.slice(quarter, 2 * quarter));
  const late = mean(load.slice(-quarter));
  const growth = (late - early) / early;
  return {
    earlyMiB: +early.toFixed(1),
    lateMiB: +late.toFixed(1),
    growth: +growth.toFixed(3),
    flat: growth <= tolerance,
  };
}
