// The latency model's load client: a child process (forked by run.mjs) that sends requests on
// a fixed schedule, whether or not earlier ones have answered (open loop), so a slow server
// shows as queueing instead of as a lower request rate. Each request's time runs from when it
// was due, not from when the client got round to sending it.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const LOOPBACK = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//;

/** A small seeded generator (mulberry32): the same schedule of inputs for both delay settings. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The request bodies of a run: the model's example inputs with the last element of the first
 * input replaced. With probability `repeat` it is one of `hot` popular values (HOT_BASE + k),
 * the same all run long; otherwise it is a value no request has sent before (`fresh`, a
 * counter the caller carries from one job to the next), so the prediction cache cannot answer.
 */
export const HOT_BASE = 10;
export function bodyMaker({ inputs, repeat, hot, seed, fresh }) {
  const random = seeded(seed);
  let counter = fresh;
  const make = () => {
    const copy = JSON.parse(JSON.stringify(inputs));
    const data = copy[0].data;
    const isHot = random() < repeat;
    // Fresh values step by 2^-20 from 1: distinct in FP32 (whose step there is 2^-23) for a
    // million requests, and never a hot value.
    data[data.length - 1] = isHot ? HOT_BASE + Math.floor(random() * hot) : 1 + counter++ / 2 ** 20;
    return { body: JSON.stringify({ inputs: copy }), hot: isHot };
  };
  return { make, next: () => counter };
}

/**
 * One fixed-rate job: `rate` requests a second for `durationS` seconds to `url`. Answers, per
 * request, when it was due (ms from the start), how late the client sent it, its latency from
 * when it was due, status, and the `x-edge-awaited` and `x-cache` headers.
 */
export function runOpenLoop({ url, headers, rate, durationS, inputs, repeat, hot, seed, fresh, timeoutMs = 60_000 }) {
  if (!LOOPBACK.test(url)) throw new Error(`refusing to load a non-loopback address: ${url}`);
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const bodies = bodyMaker({ inputs, repeat, hot, seed, fresh });
  const total = Math.round(rate * durationS);
  const interval = 1000 / rate;
  const results = new Array(total);
  let done = 0;
  return new Promise((resolve) => {
    const start = performance.now();
    let sent = 0;
    const finish = () => {
      agent.destroy();
      resolve({ results, fresh: bodies.next() });
    };
    const send = (i) => {
      const due = i * interval;
      const { body, hot: isHot } = bodies.make();
      const sentAt = performance.now();
      const record = (fields) => {
        results[i] = { due, lateMs: sentAt - start - due, hot: isHot, ...fields };
        done += 1;
        if (done === total) finish();
      };
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          timeout: timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            record({
              ms: performance.now() - start - due,
              status: res.statusCode,
              awaited: res.headers['x-edge-awaited'] ?? null,
              cache: res.headers['x-cache'] ?? null,
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on('error', (err) => record({ ms: null, status: 0, error: String(err.message ?? err) }));
      req.end(body);
    };
    // Every tick sends whatever has fallen due, so a late timer delays requests, never drops them.
    const tick = () => {
      const now = performance.now() - start;
      while (sent < total && sent * interval <= now) send(sent++);
      if (sent < total) setTimeout(tick, Math.max(0, sent * interval - (performance.now() - start)));
    };
    if (total === 0) finish();
    else tick();
  });
}

// As a forked child: one job per message, answered in order.
if (process.send) {
  process.on('message', async (job) => {
    try {
      process.send({ ok: true, result: await runOpenLoop(job) });
    } catch (err) {
      process.send({ ok: false, error: String(err?.stack ?? err) });
    }
  });
}
