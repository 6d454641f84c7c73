// The soak's figures as the README shows them.
import { MIN_TREND_READINGS } from './memory.mjs';

const statuses = (counts) =>
  Object.entries(counts)
    .sort(([a], [b]) => (Number(a) || 999) - (Number(b) || 999))
    .map(([s, n]) => `${s === '0' ? 'no answer' : s}: ${n}`)
    .join(', ');

const at = (reading) => (reading ? `${reading.heapMiB} MiB at ${reading.s} s` : 'no reading');

/** Each figure with the reading it comes from; no verdict from too few readings. */
function heapLine(memory) {
  const { trend } = memory;
  const idle = memory.samples.find((s) => s.label === 'idle');
  const parts = [
    `${at(trend.beforeLoad)} (before the load)`,
    `${at(trend.secondHalfFrom)} (first reading of the load's second half)`,
    `${at(trend.lastUnderLoad)} (last reading under load)`,
    `${idle ? `${idle.heapMiB} MiB` : 'no reading'} idle after the jobs`,
  ];
  const verdict =
    trend.flat === null
      ? `not judged: ${trend.secondHalfReadings} reading(s) in the second half of the load, ${MIN_TREND_READINGS} needed (a longer --duration or a shorter --memory-every)`
      : `over the second half (${trend.secondHalfReadings} readings) ${trend.secondHalfRiseMiB >= 0 ? '+' : ''}${trend.secondHalfRiseMiB} MiB (${(trend.growth * 100).toFixed(1)}%) ${trend.flat ? '(flat)' : '(GROWING)'}`;
  return `${parts.join(', ')}; ${verdict}`;
}

export function renderSoak(r) {
  const lines = [
    `Soak of ${r.date.slice(0, 16).replace('T', ' ')}Z: ${r.config.loadSeconds} s of load from ${r.config.clients} clients (seed ${r.config.seed}), then every job and webhook awaited.`,
    '',
    '| | |',
    '|---|---|',
    `| requests | ${r.load.requests} during the ${r.config.loadSeconds} s of load (${r.load.requestsPerSecond}/s); ${r.requests} in all, with the setup before and the job polls and result reads after |`,
    `| by status (all requests) | ${statuses(r.byStatus)} |`,
    `| 5xx or no answer | ${r.serverErrors} |`,
    `| answers not as expected | ${r.wrongAnswers} |`,
    `| jobs | ${r.jobs.submitted} submitted, ${r.jobs.ended} ended (${statuses(r.jobs.byStatus).replace(/: /g, ' ')}), ${r.jobs.announced} announced by webhook exactly once |`,
    `| rows | ${r.rows.submitted} submitted, ${r.rows.returned} returned, ${r.rows.verified} verified, ${r.rows.lost} lost (${r.rows.rowErrorsExpected} malformed on purpose, each answered with its row error) |`,
    `| registry | ${r.versions.uploadedDuringLoad} versions uploaded during the load (${r.versions.total} in all, with the ${r.versions.setup} of the setup), alias moves: ${r.byOperation.alias?.requests ?? 0}, archives: ${r.byOperation.archive?.statuses?.['200'] ?? 0} |`,
    `| webhook deliveries | ${r.webhooks.received} received, ${r.webhooks.redelivered} redelivered, ${r.webhooks.forged} failing verification |`,
    `| isolate heap after GC | ${heapLine(r.memory)} |`,
    `| workerd resident | ${r.memory.samples[0].rssMiB} → ${r.memory.samples.at(-1).rssMiB} MiB (max ${Math.max(...r.memory.samples.map((s) => s.rssMiB))}) |`,
    '',
    '| operation | requests | statuses |',
    '|---|---|---|',
    ...Object.entries(r.byOperation)
      .sort(([, a], [, b]) => b.requests - a.requests)
      .map(([op, o]) => `| ${op} | ${o.requests} | ${statuses(o.statuses)} |`),
    '',
    `Heap after GC (MiB) at ${r.memory.samples.map((s) => `${s.label ?? `${s.s} s`}: ${s.heapMiB}`).join(', ')}`,
    '',
    r.clean
      ? `Verdict: clean${r.memory.trend.flat === null ? ' (the heap not judged: too few readings)' : ''}.`
      : `Verdict: NOT clean. First failures:\n${r.failures.map((f) => `- ${f.op}: ${f.message}`).join('\n')}`,
    '',
  ];
  return lines.join('\n');
}
