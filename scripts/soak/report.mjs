// The soak's figures as the README shows them.

const statuses = (counts) =>
  Object.entries(counts)
    .sort(([a], [b]) => (Number(a) || 999) - (Number(b) || 999))
    .map(([s, n]) => `${s === '0' ? 'no answer' : s}: ${n}`)
    .join(', ');

export function renderSoak(r) {
  const { trend } = r.memory;
  const lines = [
    `Soak of ${r.date.slice(0, 16).replace('T', ' ')}Z: ${r.config.loadSeconds} s of load from ${r.config.clients} clients (seed ${r.config.seed}), then every job and webhook awaited.`,
    '',
    '| | |',
    '|---|---|',
    `| requests | ${r.requests} (${r.requestsPerSecond}/s) |`,
    `| by status | ${statuses(r.byStatus)} |`,
    `| 5xx or no answer | ${r.serverErrors} |`,
    `| answers not as expected | ${r.wrongAnswers} |`,
    `| jobs | ${r.jobs.submitted} submitted, ${r.jobs.ended} ended (${statuses(r.jobs.byStatus).replace(/: /g, ' ')}), ${r.jobs.announced} announced by webhook exactly once |`,
    `| rows | ${r.rows.submitted} submitted, ${r.rows.returned} returned, ${r.rows.verified} verified, ${r.rows.lost} lost (${r.rows.rowErrorsExpected} malformed on purpose, each answered with its row error) |`,
    `| registry | ${r.versions.uploaded} versions uploaded during traffic, alias moves: ${r.byOperation.alias?.requests ?? 0}, archives: ${r.byOperation.archive?.statuses?.['200'] ?? 0} |`,
    `| webhook deliveries | ${r.webhooks.received} received, ${r.webhooks.redelivered} redelivered, ${r.webhooks.forged} failing verification |`,
    `| isolate heap after GC | ${trend.firstMiB} MiB at the start, ${trend.halfMiB} MiB at half time, ${trend.lastMiB} MiB at the end of the load, ${r.memory.samples.at(-1).heapMiB} MiB idle afterwards; over the second half ${trend.secondHalfRiseMiB >= 0 ? '+' : ''}${trend.secondHalfRiseMiB} MiB (${(trend.growth * 100).toFixed(1)}%) ${trend.flat ? '(flat)' : '(GROWING)'} |`,
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
      ? 'Verdict: clean.'
      : `Verdict: NOT clean. First failures:\n${r.failures.map((f) => `- ${f.op}: ${f.message}`).join('\n')}`,
    '',
  ];
  return lines.join('\n');
}
