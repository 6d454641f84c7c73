import { and, eq } from 'drizzle-orm';
import { errorFields } from '../../core/logger';
import { alertEvents, alertRules } from '../../storage/schema';
import { emitEvent, type EventDeps } from '../../webhooks/events';
import { measure, type Measurement } from './measure';
import type { AlertRule } from './rules';

/*
 * The cron trigger's alert pass. Every enabled rule is measured; with enough samples, a rule
 * past its threshold starts firing (`alert.fired`) and a firing rule back within it resolves
 * (`alert.resolved`). Too few samples change nothing: a firing alert keeps firing until enough
 * traffic shows it is over. A change is a conditional update of the rule's state, so
 * overlapping runs announce it once.
 */

export type Outcome = 'fired' | 'resolved' | 'unchanged';

export const breaches = (rule: Pick<AlertRule, 'condition' | 'threshold'>, value: number) =>
  rule.condition === 'above' ? value > rule.threshold : value < rule.threshold;

export async function evaluateRule(deps: EventDeps, rule: AlertRule, now = Date.now()): Promise<Outcome> {
  const m = await measure(deps.db, rule, now);
  const judged = m.value !== null && m.samples >= rule.minSamples;
  const firing = judged && breaches(rule, m.value!);
  const observed = { lastValue: m.value, lastSamples: m.samples, lastEvaluatedAt: now };
  let outcome: Outcome = 'unchanged';
  if (judged && firing !== (rule.state === 'firing')) {
    const [changed] = await deps.db
      .update(alertRules)
      .set({ ...observed, state: firing ? 'firing' : 'ok', firedAt: firing ? now : null })
      .where(and(eq(alertRules.id, rule.id), eq(alertRules.state, rule.state)))
      .returning({ id: alertRules.id });
    if (changed) {
      outcome = firing ? 'fired' : 'resolved';
      await announce(deps, rule, outcome, m, now);
    }
  }
  if (outcome === 'unchanged') await deps.db.update(alertRules).set(observed).where(eq(alertRules.id, rule.id));
  return outcome;
}

async function announce(
  deps: EventDeps,
  rule: AlertRule,
  kind: 'fired' | 'resolved',
  m: Measurement,
  now: number,
): Promise<void> {
  await deps.db.insert(alertEvents).values({
    ruleId: rule.id,
    workspaceId: rule.workspaceId,
    model: rule.model,
    name: rule.name,
    kind,
    metric: rule.metric,
    condition: rule.condition,
    threshold: rule.threshold,
    value: m.value,
    samples: m.samples,
    createdAt: now,
  });
  await emitEvent(deps, rule.workspaceId, kind === 'fired' ? 'alert.fired' : 'alert.resolved', {
    alert: { id: rule.id, name: rule.name },
    model: rule.model,
    version: rule.version,
    metric: rule.metric,
    condition: rule.condition,
    threshold: rule.threshold,
    value: m.value,
    samples: m.samples,
    window_minutes: rule.windowMinutes,
    fired_at: new Date(kind === 'fired' ? now : (rule.firedAt ?? now)).toISOString(),
    ...(kind === 'resolved' && { resolved_at: new Date(now).toISOString() }),
  });
}

/** Every enabled rule: what the cron trigger runs. One failing rule does not stop the others. */
export async function evaluateAllAlerts(
  deps: EventDeps,
  now = Date.now(),
): Promise<{ evaluated: number; fired: number; resolved: number }> {
  const rules = await deps.db.select().from(alertRules).where(eq(alertRules.enabled, true));
  const result = { evaluated: 0, fired: 0, resolved: 0 };
  const failed: string[] = [];
  for (const rule of rules) {
    try {
      const outcome = await evaluateRule(deps, rule, now);
      result.evaluated += 1;
      if (outcome !== 'unchanged') result[outcome] += 1;
    } catch (err) {
      failed.push(rule.id);
      deps.logger.error('alert rule not evaluated', { alert: rule.id, model: rule.model, ...errorFields(err) });
    }
  }
  if (result.fired + result.resolved > 0) deps.logger.info('alerts changed', result);
  if (failed.length > 0) throw new Error(`alert rules not evaluated: ${failed.join(', ')}`);
  return result;
}
