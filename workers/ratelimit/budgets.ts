import type { WorkspaceLimits } from '../auth/principal';
import type { Config } from '../core/config';
import { errorFields, type Logger } from '../core/logger';
import type { RateDecision } from './gcra';
import type { LocalBudgets } from './local-budgets';
import type { RateLimiter } from './rate-limiter';

export interface BudgetPlan {
  /** Names the Durable Object that counts this budget. */
  key: string;
  limit: number;
  windowSeconds: number;
}

/** The budget of a caller in a workspace: the workspace's own limits, else the platform's. */
export function callerBudget(
  config: Config,
  workspaceId: string,
  callerId: string,
  budget: 'prediction' | 'management',
  limits: WorkspaceLimits,
): BudgetPlan {
  const fallback = budget === 'prediction' ? config.RATE_LIMIT_PREDICTION : config.RATE_LIMIT_MANAGEMENT;
  const own = budget === 'prediction' ? limits.prediction : limits.management;
  return {
    key: `${workspaceId}:${callerId}:${budget}`,
    limit: own ?? fallback,
    windowSeconds: limits.windowSeconds ?? config.RATE_LIMIT_WINDOW_SECONDS,
  };
}

/**
 * The ceiling over every caller of a workspace together: no number of keys or sessions gets
 * more than RATE_LIMIT_WORKSPACE_CALLERS callers' budgets.
 */
export function workspaceBudget(
  config: Config,
  workspaceId: string,
  budget: 'prediction' | 'management',
  limits: WorkspaceLimits,
): BudgetPlan {
  const caller = callerBudget(config, workspaceId, '*', budget, limits);
  return { ...caller, limit: caller.limit * config.RATE_LIMIT_WORKSPACE_CALLERS };
}

/** What one client address may try: `sign-in` attempts, failed credentials, refused hooks, scrapes. */
export type AddressBudget = 'sign-in' | 'failed-credential' | 'refused-hook' | 'scrape';

export function addressBudget(config: Config, kind: AddressBudget, address: string): BudgetPlan {
  return {
    key: `${kind}:${address}`,
    limit: kind === 'scrape' ? config.RATE_LIMIT_MANAGEMENT : config.RATE_LIMIT_AUTH,
    windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
  };
}

/** Signed inbound webhooks of one trigger: a management budget, charged once the signature holds. */
export function hookBudget(config: Config, triggerId: string): BudgetPlan {
  return {
    key: `hook:${triggerId}`,
    limit: config.RATE_LIMIT_MANAGEMENT,
    windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
  };
}

export interface BudgetDeps {
  budgets: LocalBudgets;
  logger: Logger;
  rateLimiter: DurableObjectNamespace<RateLimiter>;
  /** Keeps the report to the budget's object alive after the response. */
  defer: (work: Promise<unknown>) => void;
}

/** What `plan` would decide for one more request now, without counting it. */
export function peekBudget(deps: Pick<BudgetDeps, 'budgets'>, plan: BudgetPlan): RateDecision {
  return deps.budgets.peek(plan);
}

/** Counts one request against `plan`, decided in this isolate; the object learns of it after. */
export function takeBudget(deps: BudgetDeps, plan: BudgetPlan): RateDecision {
  const { decision, reporting } = deps.budgets.take(plan, (p, used) =>
    deps.rateLimiter.get(deps.rateLimiter.idFromName(p.key)).record(p.limit, p.windowSeconds, used),
  );
  if (reporting) {
    deps.defer(
      reporting.catch((err: unknown) =>
        deps.logger.warn('rate limit report failed; local decisions stand', { budget: plan.key, ...errorFields(err) }),
      ),
    );
  }
  return decision;
}
