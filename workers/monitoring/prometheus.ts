import { LATENCY_BOUNDS_MS } from '../core/latency-buckets';
import type { Gauges } from './gauges';
import type { TotalsRow } from './metrics-store';

/*
 * Prometheus text exposition (version 0.0.4) of the totals, named in the style of Triton's
 * metrics: counters end in _total, the latency histogram is in seconds with cumulative buckets.
 */

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (pairs: Record<string, string | number>) =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escape(String(v))}"`)
    .join(',')}}`;

interface Family {
  name: string;
  type: 'counter' | 'histogram';
  help: string;
  samples: (row: TotalsRow) => [suffix: string, extra: Record<string, string>, value: number][];
}

const FAMILIES: Family[] = [
  {
    name: 'modelflare_inference_request_success_total',
    type: 'counter',
    help: 'Prediction requests answered successfully',
    samples: ({ counters: c }) => [['', {}, c.requests - c.clientErrors - c.serverErrors]],
  },
  {
    name: 'modelflare_inference_request_failure_total',
    type: 'counter',
    help: 'Prediction requests that failed, by reason: client (4xx) or server (5xx)',
    samples: ({ counters: c }) => [
      ['', { reason: 'client' }, c.clientErrors],
      ['', { reason: 'server' }, c.serverErrors],
    ],
  },
  {
    name: 'modelflare_inference_count_total',
    type: 'counter',
    help: 'Rows predicted by successful requests (a batch of n counts n)',
    samples: ({ counters: c }) => [['', {}, c.rows]],
  },
  {
    name: 'modelflare_inference_duration_seconds',
    type: 'histogram',
    help: 'Prediction request latency as the Workers clock measures it',
    samples: ({ counters: c }) => {
      let cumulative = 0;
      const buckets: [string, Record<string, string>, number][] = LATENCY_BOUNDS_MS.map((bound, i) => {
        cumulative += c.latency[i]!;
        return ['_bucket', { le: String(bound / 1000) }, cumulative];
      });
      buckets.push(['_bucket', { le: '+Inf' }, c.requests]);
      buckets.push(['_sum', {}, c.latencyMsSum / 1000]);
      buckets.push(['_count', {}, c.requests]);
      return buckets;
    },
  },
  {
    name: 'modelflare_cache_hit_total',
    type: 'counter',
    help: 'Predictions answered from the KV prediction cache',
    samples: ({ counters: c }) => [['', {}, c.cacheHits]],
  },
  {
    name: 'modelflare_cache_miss_total',
    type: 'counter',
    help: 'Predictions looked up in the cache and computed',
    samples: ({ counters: c }) => [['', {}, c.cacheMisses]],
  },
  {
    name: 'modelflare_cache_bypass_total',
    type: 'counter',
    help: 'Predictions that skipped the cache (disabled for the model, or Cache-Control: no-store)',
    samples: ({ counters: c }) => [['', {}, c.cacheBypasses]],
  },
  {
    name: 'modelflare_batch_rows_total',
    type: 'counter',
    help: 'Rows scored by batch jobs, by outcome',
    samples: ({ counters: c }) => [
      ['', { outcome: 'succeeded' }, c.batchRowsOk],
      ['', { outcome: 'failed' }, c.batchRowsFailed],
    ],
  },
  {
    name: 'modelflare_model_load_total',
    type: 'counter',
    help: 'Model loads into an isolate (cold sessions)',
    samples: ({ counters: c }) => [['', {}, c.loads]],
  },
  {
    name: 'modelflare_model_load_duration_seconds_total',
    type: 'counter',
    help: 'Time spent loading models into isolates',
    samples: ({ counters: c }) => [['', {}, c.loadMsSum / 1000]],
  },
];

interface GaugeFamily {
  name: string;
  help: string;
  samples: (g: Gauges) => [Record<string, string | number>, number | null][];
}

const GAUGES: GaugeFamily[] = [
  {
    name: 'modelflare_drift_psi',
    help: "Population stability index of a feature in the version's latest drift report",
    samples: (g) =>
      g.drift.map((d) => [{ workspace: d.workspaceId, model: d.model, version: d.version, feature: d.feature }, d.psi]),
  },
  {
    name: 'modelflare_drift_ks',
    help: "Kolmogorov-Smirnov statistic of a numeric feature in the version's latest drift report",
    samples: (g) =>
      g.drift
        .filter((d) => d.ks !== null)
        .map((d) => [{ workspace: d.workspaceId, model: d.model, version: d.version, feature: d.feature }, d.ks]),
  },
  {
    name: 'modelflare_model_accuracy',
    help: 'Accuracy from feedback on the predictions of the last 24 hours (classifiers)',
    samples: (g) =>
      g.quality
        .filter((q) => q.kind === 'classification')
        .map((q) => [{ workspace: q.workspaceId, model: q.model, version: q.version }, q.accuracy]),
  },
  {
    name: 'modelflare_model_mae',
    help: 'Mean absolute error from feedback on the predictions of the last 24 hours (regressors)',
    samples: (g) =>
      g.quality
        .filter((q) => q.kind === 'regression')
        .map((q) => [{ workspace: q.workspaceId, model: q.model, version: q.version }, q.mae]),
  },
  {
    name: 'modelflare_model_feedback_rows',
    help: 'Rows with feedback behind the accuracy or MAE gauge',
    samples: (g) => g.quality.map((q) => [{ workspace: q.workspaceId, model: q.model, version: q.version }, q.count]),
  },
  {
    name: 'modelflare_alert_firing',
    help: 'Whether an enabled alert rule is firing (1) or not (0)',
    samples: (g) =>
      g.alerts.map((a) => [
        { workspace: a.workspaceId, model: a.model, alert: a.id, name: a.name, metric: a.metric },
        a.firing ? 1 : 0,
      ]),
  },
];

export function exposition(rows: TotalsRow[], gauges?: Gauges): string {
  const lines: string[] = [];
  for (const family of FAMILIES) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const row of rows) {
      const base = { workspace: row.workspaceId, model: row.model, version: row.version };
      for (const [suffix, extra, value] of family.samples(row)) {
        lines.push(`${family.name}${suffix}${labels({ ...base, ...extra })} ${value}`);
      }
    }
  }
  for (const family of gauges ? GAUGES : []) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`);
    for (const [pairs, value] of family.samples(gauges!)) {
      if (value !== null) lines.push(`${family.name}${labels(pairs)} ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
