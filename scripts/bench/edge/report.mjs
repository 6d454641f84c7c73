// The latency model's figures: each cell's responses and the isolate's call counts reduced to
// percentiles, awaited-call distributions and D1 statements per refresh window; the targets of
// issue 19 checked against them; the markdown tables.
import { percentile } from '../load.mjs';

export const KINDS = ['D1', 'DO', 'KV', 'R2', 'CACHE', 'QUEUE'];

/*
 * What a D1 statement is about, by the table it names first (after FROM, INTO or UPDATE), from
 * the schema in migrations/: the credential cache reads what a key or session stands for, the
 * served-version cache what a model name resolves to. Anything else (metrics, drift, prediction
 * logs) is `other`; a table renamed in a later migration falls there too, which shows.
 */
const CREDENTIAL_TABLES = new Set(['api_keys', 'sessions', 'users', 'memberships', 'workspaces', 'refresh_tokens']);
const REGISTRY_TABLES = new Set(['models', 'model_versions', 'model_aliases']);

export function tableOf(sql) {
  return /\b(?:from|into|update)\s+[`"]?([A-Za-z_][A-Za-z0-9_]*)/i.exec(sql)?.[1] ?? null;
}

export function classOf(sql) {
  const table = tableOf(sql);
  if (CREDENTIAL_TABLES.has(table)) return 'credential';
  if (REGISTRY_TABLES.has(table)) return 'registry';
  return 'other';
}

const round = (v, digits = 3) => (v === null || v === undefined ? null : Number(v.toFixed(digits)));

/** Shares of each value of `key` among `rows`, largest first. */
function shares(rows, key) {
  const counts = new Map();
  for (const r of rows) counts.set(r[key] ?? 'none', (counts.get(r[key] ?? 'none') ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])))
    .map(([value, n]) => ({ value, count: n, share: n / rows.length }));
}

/** `D1=2,DO=1` as `D1×2 DO×1`. */
export const awaitedLabel = (header) =>
  header === 'none' || !header
    ? 'none'
    : header
        .split(',')
        .map((p) => p.replace('=', '×'))
        .join(' ');

/**
 * D1 statements per `windowS` seconds of the cell (from the isolate's log: [ms since the cell
 * began, sql index, …]), split by what they are about, per key and per model.
 */
export function d1Windows(stats, windowS, { keys = 1, models = 1 } = {}) {
  const windows = new Map();
  for (const [t, index] of stats.d1) {
    const w = Math.max(0, Math.floor(t / (windowS * 1000)));
    const row = windows.get(w) ?? { credential: 0, registry: 0, other: 0, total: 0, tables: {} };
    const sql = stats.sql[index];
    row[classOf(sql)] += 1;
    row.total += 1;
    const table = tableOf(sql) ?? '?';
    row.tables[table] = (row.tables[table] ?? 0) + 1;
    windows.set(w, row);
  }
  return [...windows.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([w, row]) => ({
      from_s: w * windowS,
      to_s: (w + 1) * windowS,
      ...row,
      per_key: row.credential / keys,
      per_model: row.registry / models,
    }));
}

/** One cell: its responses (from load.mjs) and what the isolate counted meanwhile. */
export function summarizeCell({ rate, durationS, delays, results, stats, windowS }) {
  const ok = results.filter((r) => r.status === 200);
  const sorted = ok.map((r) => r.ms).sort((a, b) => a - b);
  const late = results.map((r) => r.lateMs).sort((a, b) => a - b);
  const statuses = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const errors = results.filter((r) => r.error);
  return {
    rate,
    duration_s: durationS,
    delays,
    requests: results.length,
    ok: ok.length,
    statuses,
    first_error: errors[0]?.error ?? null,
    p50_ms: round(percentile(sorted, 50)),
    p90_ms: round(percentile(sorted, 90)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted[sorted.length - 1] ?? null),
    client_late_p99_ms: round(percentile(late, 99)),
    client_late_max_ms: round(late[late.length - 1] ?? null),
    hot_share: results.filter((r) => r.hot).length / Math.max(1, results.length),
    cache: Object.fromEntries(shares(ok, 'cache').map((s) => [s.value, s.count])),
    awaited: shares(ok, 'awaited').map((s) => ({ calls: s.value, count: s.count, share: round(s.share, 4) })),
    // By kind: every call in the cell, those made on behalf of requests, those a response waited for.
    calls: stats.calls,
    calls_in_requests: stats.inRequest,
    calls_awaited: stats.awaited,
    d1_statements: stats.d1Statements,
    d1_windows: d1Windows(stats, windowS),
    period_s: round((stats.until - stats.since) / 1000, 1),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)];
};

/** Cold starts of one delay setting: each run's first and second prediction after a restart. */
export function summarizeCold(delays, runs) {
  return {
    delays,
    reps: runs.length,
    first_ms: round(median(runs.map((r) => r.firstMs))),
    second_ms: round(median(runs.map((r) => r.secondMs))),
    restart_ms: round(median(runs.map((r) => r.restartMs))),
    runs: runs.map((r) => ({
      ...r,
      firstMs: round(r.firstMs),
      secondMs: round(r.secondMs),
      restartMs: round(r.restartMs),
    })),
  };
}

/** The largest per-key and per-model counts over a cell's windows. */
export function worstWindow(cell) {
  const max = (key) => Math.max(0, ...cell.d1_windows.map((w) => w[key]));
  return { total: max('total'), per_key: max('per_key'), per_model: max('per_model') };
}

const cellOf = (report, rate, delays) => report.cells.find((c) => c.rate === rate && c.delays === delays);
const f = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));

/** The targets issue 19 is judged by; `met` is null when the run lacks the cells to judge. */
export function targets(report, limits = { p50: 5, p99: 60, cold: 600, d1: 2 }) {
  const out = [];
  for (const rate of [1, 20]) {
    const off = cellOf(report, rate, 'off');
    const on = cellOf(report, rate, 'on');
    const has = Boolean(off && on && off.p50_ms !== null && on.p50_ms !== null);
    out.push({
      target: `${rate} req/s: p50 with delays within ${limits.p50} ms of p50 without`,
      value: has ? `${f(on.p50_ms)} vs ${f(off.p50_ms)} ms (+${f(on.p50_ms - off.p50_ms)})` : 'not measured',
      met: has ? on.p50_ms - off.p50_ms <= limits.p50 : null,
    });
    out.push({
      target: `${rate} req/s: p99 with delays within ${limits.p99} ms of p99 without`,
      value: has ? `${f(on.p99_ms)} vs ${f(off.p99_ms)} ms (+${f(on.p99_ms - off.p99_ms)})` : 'not measured',
      met: has ? on.p99_ms - off.p99_ms <= limits.p99 : null,
    });
  }
  const cold = report.cold_start?.find((c) => c.delays === 'on');
  out.push({
    target: `cold first prediction with delays within ${limits.cold} ms`,
    value: cold?.first_ms != null ? `${f(cold.first_ms)} ms (median of ${cold.reps})` : 'not measured',
    met: cold?.first_ms != null ? cold.first_ms <= limits.cold : null,
  });
  const busiest = Math.max(...report.cells.map((c) => c.rate));
  const on = cellOf(report, busiest, 'on');
  if (on) {
    const { per_key: worstKey, per_model: worstModel } = worstWindow(on);
    // The warm-up before a cell refreshes the caches: a cell no longer than one interval may see no refresh.
    const seesRefresh = on.duration_s > report.method.window_s;
    out.push({
      target: `${busiest} req/s with delays: at most ${limits.d1} D1 queries per key and per model per ${report.method.window_s} s`,
      value:
        `worst window: ${worstKey} per key, ${worstModel} per model (${on.d1_statements} D1 statements in the cell)` +
        (seesRefresh ? '' : `; the cell is not longer than one refresh interval`),
      met: seesRefresh ? worstKey <= limits.d1 && worstModel <= limits.d1 : null,
    });
  }
  return out;
}

const mark = (met) => (met === null ? 'open' : met ? 'PASS' : 'FAIL');

export function renderMarkdown(report) {
  const m = report.machine;
  const d = report.method.delays;
  const lines = [];
  lines.push(
    `Measured ${report.generated_at.slice(0, 10)} on ${m.cpus} cores (${m.cpu_model}), Node ${m.node}, workerd ${m.workerd}${report.method.quick ? ' (quick run: indicative only)' : ''}. ` +
      `Delays on: ${KINDS.map((k) => `${k === 'CACHE' ? 'Cache API' : k === 'QUEUE' ? 'Queues' : k} ${d[k]} ms`).join(', ')}; off: none. ` +
      `Model \`${report.method.model}\`; ${report.method.input}`,
    '',
  );
  lines.push('### Targets (issue 19)', '', '| target | measured | verdict |', '| --- | --- | --- |');
  for (const t of report.targets) lines.push(`| ${t.target} | ${t.value} | ${mark(t.met)} |`);

  lines.push('', '### Latency per traffic level (ms, from when each request was due)', '');
  lines.push(
    '| rate | for | delays | requests | p50 | p90 | p99 | max | non-200 | X-Cache | client late, p99 |',
    '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  );
  for (const c of report.cells) {
    const bad = c.requests - c.ok;
    const cache = Object.entries(c.cache)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(
      `| ${c.rate}/s | ${c.duration_s} s | ${c.delays} | ${c.requests} | ${f(c.p50_ms)} | ${f(c.p90_ms)} | ${f(c.p99_ms)} | ${f(c.max_ms)} | ${bad} | ${cache} | ${f(c.client_late_p99_ms)} |`,
    );
  }

  lines.push('', '### Remote calls each response waited for (share of requests)', '');
  lines.push('| rate | delays | awaited calls |', '| ---: | --- | --- |');
  for (const c of report.cells) {
    const dist = c.awaited.map((a) => `${awaitedLabel(a.calls)}: ${f(a.share * 100, a.share < 0.01 ? 2 : 0)}%`);
    lines.push(`| ${c.rate}/s | ${c.delays} | ${dist.join('; ')} |`);
  }

  lines.push('', '### Binding calls per cell, by kind (all / made for requests / awaited by a response)', '');
  lines.push(
    `| rate | delays | ${KINDS.join(' | ')} | D1 statements |`,
    `| ---: | --- |${' ---: |'.repeat(KINDS.length + 1)}`,
  );
  for (const c of report.cells) {
    const cells = KINDS.map((k) => `${c.calls[k]} / ${c.calls_in_requests[k]} / ${c.calls_awaited[k]}`);
    lines.push(`| ${c.rate}/s | ${c.delays} | ${cells.join(' | ')} | ${c.d1_statements} |`);
  }

  const w = report.method.window_s;
  lines.push('', `### D1 statements per ${w} s window (one key, one model; windows from the cell's start)`, '');
  lines.push(
    '| rate | delays | statements per window | worst window: per key (credential) | per model (registry) | by table, whole cell |',
    '| ---: | --- | --- | ---: | ---: | --- |',
  );
  for (const c of report.cells) {
    const tables = {};
    for (const win of c.d1_windows) for (const [t, n] of Object.entries(win.tables)) tables[t] = (tables[t] ?? 0) + n;
    const byTable = Object.entries(tables)
      .sort((a, b) => b[1] - a[1])
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    const windows = Math.max(1, Math.ceil(c.period_s / w));
    const totals = Array.from({ length: windows }, (_, i) => c.d1_windows.find((x) => x.from_s === i * w)?.total ?? 0);
    const worst = worstWindow(c);
    lines.push(
      `| ${c.rate}/s | ${c.delays} | ${totals.join(', ')} | ${worst.per_key} | ${worst.per_model} | ${byTable} |`,
    );
  }

  lines.push('', '### Cold first prediction on a new isolate (new workerd process; model load included)', '');
  lines.push(
    '| delays | median first prediction | each run | second prediction | remote calls the first one waited for | Server-Timing of the median run |',
    '| --- | ---: | --- | ---: | --- | --- |',
  );
  for (const c of report.cold_start ?? []) {
    const calls = shares(c.runs, 'awaited').map((s) => `${awaitedLabel(s.value)} (${s.count}/${c.reps})`);
    const mid = c.runs.find((r) => r.firstMs === c.first_ms);
    lines.push(
      `| ${c.delays} | ${f(c.first_ms)} ms | ${c.runs.map((r) => f(r.firstMs, 0)).join(', ')} | ${f(c.second_ms)} ms | ${calls.join('; ')} | ${mid?.serverTiming ?? '–'} |`,
    );
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}
