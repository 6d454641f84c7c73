import type { z } from '@hono/zod-openapi';
import type { AlertEvent as EventRow, AlertRule as RuleRow } from '../../monitoring/alerts/rules';
import { iso } from '../schemas/common';
import type { AlertEvent, AlertRule } from '../schemas/alerts';

/** Minutes as the window syntax the API takes: 90 → 90m, 120 → 2h, 1440 → 1d. */
export const windowText = (minutes: number) =>
  minutes % 1440 === 0 ? `${minutes / 1440}d` : minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;

export const presentAlertRule = (r: RuleRow): z.infer<typeof AlertRule> => ({
  id: r.id,
  model: r.model,
  name: r.name,
  metric: r.metric,
  condition: r.condition,
  threshold: r.threshold,
  window: windowText(r.windowMinutes),
  window_minutes: r.windowMinutes,
  min_samples: r.minSamples,
  version: r.version,
  enabled: r.enabled,
  state: r.state,
  last_evaluation:
    r.lastEvaluatedAt === null
      ? null
      : { value: r.lastValue, samples: r.lastSamples ?? 0, at: iso(r.lastEvaluatedAt)! },
  fired_at: iso(r.firedAt),
  created_at: iso(r.createdAt)!,
  updated_at: iso(r.updatedAt)!,
});

export const presentAlertEvent = (e: EventRow): z.infer<typeof AlertEvent> => ({
  id: e.id,
  alert_id: e.ruleId,
  model: e.model,
  name: e.name,
  kind: e.kind,
  metric: e.metric,
  condition: e.condition,
  threshold: e.threshold,
  value: e.value,
  samples: e.samples,
  created_at: iso(e.createdAt)!,
});
