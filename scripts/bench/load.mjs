// The load generator: a child process (forked by run.mjs) that drives autocannon against a
// loopback URL and answers with exact latency percentiles. autocannon's own histogram keeps
// whole milliseconds, too coarse for sub-millisecond floors, so every response time is kept.
// Each job stops by itself: after `durationMs` or `maxRequests`, whichever comes first.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

const LOOPBACK = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//;

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * One load job. `vary` = [before, after, start]: each request's body is before + a distinct
 * number + after, so no two requests share a prediction-cache key. A binary body travels to this
 * process as `bodyBase64` (the IPC channel carries JSON). Responses in the first
 * `settleMs` are not counted: they carry the opening of the connections, not the steady state.
 */
export function runJob({
  url,
  method = 'GET',
  headers = {},
  body,
  bodyBase64,
  vary,
  connections,
  settleMs = 0,
  durationMs,
  maxRequests,
  timeline = false,
}) {
  if (!LOOPBACK.test(url)) throw new Error(`refusing to load a non-loopback address: ${url}`);
  return new Promise((resolve, reject) => {
    const latencies = new Float64Array(maxRequests);
    // With `timeline`, when each response ended (µs on the monotonic clock V8 profiles use).
    const ends = timeline ? new Float64Array(maxRequests) : undefined;
    const statuses = {};
    let firstError;
    let answered = 0;
    let n = 0;
    let counter = vary?.[2] ?? 0;
    const requests = vary
      ? [
          {
            setupRequest: (req) => ({ ...req, body: `${vary[0]}${1 + counter++ / 1048576}${vary[1]}` }),
          },
        ]
      : undefined;
    let started = performance.now();
    const instance = autocannon(
      {
        url,
        method,
        headers,
        body: bodyBase64 === undefined ? body : Buffer.from(bodyBase64, 'base64'),
        requests,
        connections,
        duration: Math.ceil((settleMs + durationMs) / 1000) + 1,
        timeout: 10,
        sampleInt: 50,
      },
      (err, result) => {
        if (err) return reject(err);
        const elapsed = ((stoppedAt ?? performance.now()) - started) / 1000;
        const inOrder = timeline ? Array.from(latencies.subarray(0, n)) : undefined;
        const sorted = latencies.subarray(0, n).sort();
        resolve({
          requests: n,
          answered,
          seconds: elapsed,
          rps: n / elapsed,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          p999: percentile(sorted, 99.9),
          max: n ? sorted[n - 1] : null,
          over50ms: sorted.filter((v) => v > 50).length,
          statuses,
          errors: result.errors + result.timeouts,
          firstError,
          varyNext: counter,
          latencies: Array.from(sorted),
          timeline: timeline ? inOrder.map((ms, i) => [ends[i], ms]) : undefined,
        });
      },
    );
    // autocannon looks at its stop flag once per sample interval; what answers after the
    // deadline is neither counted nor timed.
    let stoppedAt;
    const stop = () => {
      stoppedAt ??= performance.now();
      instance.stop();
    };
    let measuring = settleMs === 0;
    const settle = setTimeout(() => {
      measuring = true;
      started = performance.now();
    }, settleMs);
    const timer = setTimeout(stop, settleMs + durationMs);
    instance.on('done', () => {
      clearTimeout(timer);
      clearTimeout(settle);
    });
    instance.on('reqError', (err) => {
      firstError ??= String(err?.message ?? err);
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      answered += 1;
      if (!measuring || stoppedAt !== undefined) return;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 200) return; // counted, not timed
      if (ends) ends[n] = Number(process.hrtime.bigint() / 1000n);
      latencies[n++] = ms;
      if (n === maxRequests) stop();
    });
  });
}

// As a forked child: one job per message, answered in order.
if (process.send) {
  process.on('message', async (job) => {
    try {
      process.send({ ok: true, result: await runJob(job) });
    } catch (err) {
      process.send({ ok: false, error: String(err?.stack ?? err) });
    }
  });
}
