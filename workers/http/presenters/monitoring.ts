import type { z } from '@hono/zod-openapi';
import type { BaselineRow } from '../../monitoring/drift/baselines';
import type { DriftReport as ReportRow } from '../../monitoring/drift/report';
import type { Performance as PerformanceView } from '../../monitoring/performance';
import type { LoggedFeedback, PredictionRow } from '../../monitoring/predictions';
import type { ModelStats, SeriesPoint, Summary } from '../../monitoring/stats';
import { iso } from '../schemas/common';
import type { Baseline, DriftReport, Performance, Prediction, Stats } from '../schemas/monitoring';

const summary = (s: Summary) => ({
  requests: s.requests,
  rows: s.rows,
  errors: s.errors,
  error_rate: s.errorRate,
  latency_ms: s.latencyMs,
  cache: { hits: s.cache.hits, misses: s.cache.misses, bypasses: s.cache.bypasses, hit_ratio: s.cache.hitRatio },
  batch_rows: s.batchRows,
  loads: { count: s.loads.count, mean_ms: s.loads.meanMs },
});

export const presentPoint = (p: SeriesPoint) => ({
  at: iso(p.at)!,
  requests: p.requests,
  rows: p.rows,
  error_rate: p.errorRate,
  p50: p.p50,
  p95: p.p95,
  p99: p.p99,
  cache_hit_ratio: p.cacheHitRatio,
});

export const presentStats = (model: string, s: ModelStats): z.infer<typeof Stats> => ({
  model,
  window: { from: iso(s.fromMinute * 60000)!, to: iso((s.toMinute + 1) * 60000)!, step_minutes: s.stepMinutes },
  total: summary(s.total),
  versions: s.versions.map((v) => ({
    version: v.version,
    ...summary(v),
    ...(v.series && { series: v.series.map(presentPoint) }),
  })),
  series: s.series.map(presentPoint),
});

export const presentPrediction = (p: PredictionRow, feedback?: LoggedFeedback): z.infer<typeof Prediction> => ({
  id: p.id,
  model: p.model,
  version: p.version,
  request_id: p.requestId,
  rows: p.rows,
  cache: p.cache,
  inputs: JSON.parse(p.inputs) as unknown,
  outputs: JSON.parse(p.outputs) as unknown,
  predicted: p.predicted,
  feedback: feedback ? { actual: feedback.actual, received_at: iso(feedback.receivedAt)! } : null,
  created_at: iso(p.createdAt)!,
});

export const presentPerformance = (model: string, p: PerformanceView): z.infer<typeof Performance> => ({
  model,
  kind: p.kind,
  step_minutes: p.stepMinutes,
  step: p.stepMinutes >= 1440 ? 'day' : 'hour',
  count: p.count,
  metrics:
    'accuracy' in p.metrics
      ? {
          accuracy: p.metrics.accuracy,
          precision: p.metrics.precision,
          recall: p.metrics.recall,
          f1: p.metrics.f1,
          per_class: p.metrics.perClass,
        }
      : p.metrics,
  series: p.series.map((s) => ({ at: iso(s.at)!, count: s.count, value: s.value })),
});

export const presentBaseline = (b: BaselineRow): z.infer<typeof Baseline> => ({
  model: b.model,
  version: b.version,
  source: b.source,
  status: b.status,
  rows: b.rows,
  target_rows: b.targetRows,
  features:
    b.features?.map((f) => ({
      name: f.name,
      kind: f.kind,
      bins: f.counts.length,
      ...(f.edges && { edges: f.edges }),
      ...(f.categories && { categories: f.categories }),
    })) ?? null,
  created_at: iso(b.createdAt)!,
  ready_at: iso(b.readyAt),
});

export const presentReport = (r: ReportRow): z.infer<typeof DriftReport> => ({
  model: r.model,
  version: r.version,
  status: r.status,
  rows: r.rows,
  window_hours: r.windowHours,
  thresholds: { psi: r.psiThreshold, ks: r.ksThreshold },
  features: r.features,
  created_at: iso(r.createdAt)!,
});
