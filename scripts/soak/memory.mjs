// The isolate's memory over the run: the V8 heap's floor (what a leak raises) and the workerd
// process's resident set (which also holds ORT's WASM memory). workerd's inspector never
// answers HeapProfiler.collectGarbage, so the heap is read every second and each window keeps
// its lowest reading: the heap just after the collector last ran.
import { devtools } from '../bench/inspector.mjs';
import { childPid, rssMiB } from '../bench/proc-cpu.mjs';

const MiB = 2 ** 20;
const READ_EVERY_MS = 1000;

export async function startMemorySampler(inspectorPort, windowMs) {
  const dt = await devtools(inspectorPort);
  const pid = childPid('workerd');
  const started = Date.now();
  const samples = [];
  let floor = Infinity;
  let windowStart = started;
  const read = async () => {
    const heap = await dt.send('Runtime.getHeapUsage');
    floor = Math.min(floor, heap.usedSize);
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      samples.push({ s: Math.round((now - started) / 1000), heapMiB: +(floor / MiB).toFixed(1), rssMiB: rssMiB(pid) });
      floor = Infinity;
      windowStart = now;
    }
  };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await read().catch((err) => console.error(`memory reading failed: ${err.message}`));
      await new Promise((r) => setTimeout(r, READ_EVERY_MS));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      dt.close();
      return samples;
    },
  };
}

/**
 * Flat means the lowest heap floor of the run's last quarter is within `tolerance` of the
 * second quarter's (the first holds warm-up: sessions, compiled code, caches filling). The
 * lowest, because a window in which the collector did not run reads high; a leak raises them all.
 */
export function memoryTrend(samples, tolerance = 0.1) {
  const heap = samples.map((s) => s.heapMiB);
  const quarter = Math.max(1, Math.floor(heap.length / 4));
  const early = Math.min(...heap.slice(quarter, 2 * quarter));
  const late = Math.min(...heap.slice(-quarter));
  const growth = (late - early) / early;
  return {
    earlyMiB: +early.toFixed(1),
    lateMiB: +late.toFixed(1),
    growth: +growth.toFixed(3),
    flat: growth <= tolerance,
  };
}
