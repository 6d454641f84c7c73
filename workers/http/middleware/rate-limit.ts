import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { RateLimitedError } from '../../core/errors';
import { addressBudget, callerBudget, consume, hookBudget, type BudgetPlan } from '../../ratelimit/budgets';
import type { RateDecision } from '../../ratelimit/gcra';
import type { AppEnv } from '../app-env';
import { addResponseHeaders } from '../response-headers';
import { hookTrigger, isPublicRoute } from '../public-routes';
import { routeClass } from '../route-class';

/*
 * Counts each request against its budget in the RateLimiter Durable Object, after
 * authentication: per API key or user and workspace, prediction and management apart; the
 * public login routes per client address. The platform administrator is not limited.
 * If the counter cannot be reached the request goes through (logged): an outage of the
 * limiter must not become an outage of the API.
 */
export const rateLimit = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const plan = planFor(c);
    if (!plan) return next();
    const decision = await consumeOrPass(c.env.RATE_LIMITER, plan, c.get('requestId'));
    if (decision && !decision.allowed) {
      throw new RateLimitedError(
        `rate limit exceeded: ${decision.limit} requests per ${plan.windowSeconds} s; retry after ${decision.retryAfterSeconds} s`,
        decision.limit,
        decision.resetSeconds,
        decision.retryAfterSeconds,
      );
    }
    await next();
    if (decision) {
      addResponseHeaders(c, {
        'RateLimit-Limit': String(decision.limit),
        'RateLimit-Remaining': String(decision.remaining),
        'RateLimit-Reset': String(decision.resetSeconds),
      });
    }
  });

function planFor(c: Context<AppEnv>): BudgetPlan | undefined {
  const { method, path } = c.req;
  const config = c.get('config');
  const trigger = hookTrigger(method, path);
  if (trigger) return hookBudget(config, trigger);
  if (isPublicRoute(method, path)) return addressBudget(config, c.req.header('cf-connecting-ip') ?? 'unknown');
  const principal = c.get('principal');
  if (principal.kind === 'admin') return undefined;
  const budget = routeClass(method, path) === 'prediction' ? 'prediction' : 'management';
  return callerBudget(config, principal.workspaceId, principal.id, budget, principal.limits);
}

async function consumeOrPass(
  namespace: AppEnv['Bindings']['RATE_LIMITER'],
  plan: BudgetPlan,
  requestId: string,
): Promise<RateDecision | undefined> {
  try {
    return await consume(namespace, plan);
  } catch (err) {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'rate limiter unavailable; request let through',
        request_id: requestId,
        error: err instanceof Error ? err.message : String(err),
      }),
    );
    return undefined;
  }
}
