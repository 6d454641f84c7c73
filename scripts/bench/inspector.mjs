// workerd's inspector, reached through Miniflare's inspectorPort: a minimal Chrome DevTools
// Protocol client for CPU profiles of the isolate under load.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/**
 * A minimal Chrome DevTools Protocol session over the inspector's WebSocket. `snapshotChunk`,
 * when given, receives a heap snapshot's chunks; otherwise they are dropped unparsed.
 */
export async function devtools(inspectorPort, { snapshotChunk } = {}) {
  if (typeof globalThis.WebSocket === 'undefined') {
    throw new Error('needs a WebSocket client: run with node --experimental-websocket (the npm scripts do)');
  }
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.title?.includes('modelflare')) ?? targets[0];
  const ws = new globalThis.WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    if (typeof event.data === 'string' && event.data.startsWith('{"method":"HeapProfiler.addHeapSnapshotChunk"')) {
      snapshotChunk?.(JSON.parse(event.data).params.chunk);
      return;
    }
    const msg = JSON.parse(event.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const msgId = ++id;
      pending.set(msgId, (msg) => (msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result)));
      ws.send(JSON.stringify({ id: msgId, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** Starts sampling; `stop()` answers the profile (µs timestamps on the monotonic clock). */
export async function startProfile(dt, intervalUs) {
  await dt.send('Profiler.enable');
  await dt.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await dt.send('Profiler.start');
  return async () => (await dt.send('Profiler.stop')).profile;
}

/**
 * The bundle marks where each source module starts (`// workers/http/app.ts`): self time is
 * summed per module, so the profile reads as "what each part of the platform costs".
 */
export function moduleOfLine(bundlePath) {
  const starts = [];
  readFileSync(bundlePath, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const m = /^\/\/ ((?:workers|node_modules|scripts)\/\S+)$/.exec(line);
      if (m) starts.push([i, m[1].replace(/^node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*/, '$1 (npm)')]);
    });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = '(bundle prelude)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid][0] <= line) {
        found = starts[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** What a profile node's self time is charged to: a source module, ORT's WASM, or the runtime. */
export function sampleModule(node, moduleOf) {
  const { url, lineNumber, functionName } = node.callFrame;
  if (url === 'worker.js') return moduleOf(lineNumber);
  if (url.startsWith('wasm://')) return 'onnxruntime (WASM)';
  if (functionName.startsWith('(')) return functionName;
  return `runtime: ${functionName || '(anonymous)'}`;
}
