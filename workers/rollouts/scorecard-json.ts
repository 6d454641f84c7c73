import type { Scorecard } from './scorecard';

/** A scorecard as the API answers it and the rollback event carries it (snake_case, ISO times). */
export function scorecardJson(card: Scorecard) {
  return {
    model: card.model,
    alias: card.alias,
    from: new Date(card.from).toISOString(),
    to: new Date(card.to).toISOString(),
    min_requests: card.minRequests,
    routes: card.routes.map((r) => ({
      route: r.route,
      version: r.version,
      weight: r.weight,
      requests: r.requests,
      errors: r.errors,
      error_rate: r.errorRate,
      latency_ms: r.latencyMs,
      cache_hit_ratio: r.cacheHitRatio,
      quality: r.quality && {
        kind: r.quality.kind,
        feedback_rows: r.quality.count,
        accuracy: r.quality.accuracy,
        mae: r.quality.mae,
      },
      drift: r.drift && { status: r.drift.status, checked_at: new Date(r.drift.checkedAt).toISOString() },
      vs_first: r.vsFirst && {
        enough_requests: r.vsFirst.enoughRequests,
        error_rate: r.vsFirst.errorRate && {
          difference: r.vsFirst.errorRate.difference,
          z: r.vsFirst.errorRate.z,
          p_value: r.vsFirst.errorRate.pValue,
          significant: r.vsFirst.errorRate.significant,
        },
        enough_feedback: r.vsFirst.enoughFeedback,
        accuracy: r.vsFirst.accuracy && {
          difference: r.vsFirst.accuracy.difference,
          z: r.vsFirst.accuracy.z,
          p_value: r.vsFirst.accuracy.pValue,
          significant: r.vsFirst.accuracy.significant,
        },
      },
    })),
    shadow: card.shadow && {
      version: card.shadow.version,
      percent: card.shadow.percent,
      requests: card.shadow.requests,
      errors: card.shadow.errors,
      error_rate: card.shadow.errorRate,
      rows: card.shadow.rows,
      agreement_rate: card.shadow.agreementRate,
      probability_difference: card.shadow.probabilityDiff,
      outputs: card.shadow.outputs.map((o) => ({
        name: o.name,
        elements: o.elements,
        equal_rate: o.equalRate,
        abs_difference: o.absDiff,
        rel_difference: o.relDiff,
      })),
      latency_ms: { primary_mean: card.shadow.latencyMs.primaryMean, shadow_mean: card.shadow.latencyMs.shadowMean },
    },
  };
}

export type ScorecardJson = ReturnType<typeof scorecardJson>;
