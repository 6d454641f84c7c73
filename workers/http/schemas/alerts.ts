import { z } from '@hono/zod-openapi';
import { ALERT_CONDITIONS, ALERT_EVENT_KINDS, ALERT_METRICS, ALERT_STATES } from '../../storage/schema';
import { Timestamp, VersionRef } from './common';
import * as ex from './examples';
import { Window } from './monitoring';

const METRICS_DESCRIPTION = [
  '`error_rate`: failed prediction requests / requests (0 to 1);',
  '`latency_p99_ms`: the 99th percentile of prediction latency, ms;',
  '`drift_psi`, `drift_ks`: the highest PSI or KS of any feature in the latest drift report made within the window;',
  '`accuracy` (classifiers) or `mae` (regressors): from feedback on the predictions made in the window.',
].join(' ');

const Fields = {
  name: z.string().trim().min(1).max(100).openapi({ description: 'Default: the metric, condition and threshold' }),
  metric: z.enum(ALERT_METRICS).openapi({ description: METRICS_DESCRIPTION }),
  condition: z.enum(ALERT_CONDITIONS).openapi({
    description: 'Fire when the value is above or below the threshold. Default: below for accuracy, above otherwise',
  }),
  threshold: z.number().finite(),
  window: Window.openapi({
    type: 'string',
    example: '15m',
    description:
      'How far back the metric looks: 15m, 1h, 24h… (at most 30d). Default: 15m for traffic metrics, 1h for drift, 24h for quality',
  }),
  min_samples: z.number().int().min(1).max(10_000_000).openapi({
    description:
      'Fewer samples (requests; drift report rows; rows with feedback) in the window leave the alert as it is. Default: 50 for traffic, 100 for drift, 30 for quality',
  }),
  version: VersionRef.nullable().openapi({
    description: 'A version number or alias, resolved at each evaluation; null (default): every version of the model',
  }),
  enabled: z.boolean(),
};

export const CreateAlertRuleBody = z
  .object({
    ...Fields,
    name: Fields.name.optional(),
    condition: Fields.condition.optional(),
    window: Fields.window.optional(),
    min_samples: Fields.min_samples.optional(),
    version: Fields.version.optional(),
    enabled: Fields.enabled.optional(),
  })
  .strict()
  .openapi('CreateAlertRule', { example: ex.CREATE_ALERT_RULE });

export const UpdateAlertRuleBody = z
  .object({
    name: Fields.name.optional(),
    metric: Fields.metric.optional(),
    condition: Fields.condition.optional(),
    threshold: Fields.threshold.optional(),
    window: Fields.window.optional(),
    min_samples: Fields.min_samples.optional(),
    version: Fields.version.optional(),
    enabled: Fields.enabled.optional(),
  })
  .strict()
  .openapi('UpdateAlertRule', { example: { threshold: 0.1, window: '30m' } });

export const AlertRule = z
  .object({
    id: z.string(),
    model: z.string(),
    name: z.string(),
    metric: z.enum(ALERT_METRICS),
    condition: z.enum(ALERT_CONDITIONS),
    threshold: z.number(),
    window: z.string().openapi({ example: '15m' }),
    window_minutes: z.number().int(),
    min_samples: z.number().int(),
    version: z.string().nullable(),
    enabled: z.boolean(),
    state: z
      .enum(ALERT_STATES)
      .openapi({ description: '`firing` from the evaluation that found the breach until one finds none' }),
    last_evaluation: z
      .object({
        value: z.number().nullable().openapi({ description: 'null: nothing to measure in the window' }),
        samples: z.number().int(),
        at: Timestamp,
      })
      .nullable()
      .openapi({ description: 'What the latest cron run measured; null before the first' }),
    fired_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('AlertRule', { example: ex.ALERT_RULE });

export const AlertRuleList = z
  .object({ alerts: z.array(AlertRule), next_cursor: z.string().nullable() })
  .openapi('AlertRuleList', { example: { alerts: [ex.ALERT_RULE], next_cursor: null } });

export const AlertEvent = z
  .object({
    id: z.number().int(),
    alert_id: z.string(),
    model: z.string(),
    name: z.string(),
    kind: z.enum(ALERT_EVENT_KINDS),
    metric: z.enum(ALERT_METRICS),
    condition: z.enum(ALERT_CONDITIONS),
    threshold: z.number(),
    value: z.number().nullable(),
    samples: z.number().int(),
    created_at: Timestamp,
  })
  .openapi('AlertEvent', { example: ex.ALERT_EVENT });

export const AlertEventList = z
  .object({ events: z.array(AlertEvent), next_cursor: z.string().nullable() })
  .openapi('AlertEventList', { example: { events: [ex.ALERT_EVENT], next_cursor: null } });

export const AlertStateQuery = z.enum(ALERT_STATES).optional().openapi({ description: 'Only rules in this state' });
