import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { authenticate, authorize, bearerToken } from '../auth/authenticate';
import type { Permission } from '../auth/principal';
import type { Config } from '../core/config';
import { requireJsonDepth } from '../core/json-depth';
import { lookAhead, type LookAhead } from '../inference/look-ahead';
import { DomainError, invalidInput, RateLimitedError } from '../core/errors';
import {
  addressBudget,
  callerBudget,
  peekBudget,
  takeBudget,
  workspaceBudget,
  type AddressBudget,
  type BudgetPlan,
} from '../ratelimit/budgets';
import type { RateDecision } from '../ratelimit/gcra';
import { warmUpRuntime } from '../runtime/warm-up';
import type { AppEnv } from './app-env';
import { errorResponses } from './errors';
import { tooLarge } from './read-body';
import { readTensorBody } from './tensor-body';
import { ModelName, VersionRef, WORKSPACE_HEADER, WorkspaceId } from './schemas/common';

/*
 * Route rules live with the route: who may call it, which budget it draws on and what body it
 * takes are declared where the route is created, through defineRoute (or plainRoute for the
 * few routes outside the OpenAPI document). The rules become the route's own middleware and
 * its documented security and error responses, so a route cannot inherit another's budget or
 * body limit, and one declared without rules does not compile.
 */

export interface RouteRules {
  /**
   * Who may call: anyone; any valid credential; a credential holding this permission; or
   * `own-credential`, a route that checks a credential of its own (the metrics scrape token).
   */
  access: 'public' | 'signed-in' | 'own-credential' | Permission;
  /**
   * The budget a request draws on: predictions and management per caller (apart, so a busy
   * model cannot starve its own tooling) under a ceiling per workspace; sign-in attempts and
   * scrapes per client address; `hook` for inbound webhooks, charged by the handler once it
   * knows whether the signature holds (the trigger's budget, else the sender's address);
   * `unmetered` for pages and probes. The platform administrator is never limited.
   */
  budget: 'prediction' | 'management' | 'sign-in' | 'scrape' | 'hook' | 'unmetered';
  /**
   * The body: none; JSON within MAX_JSON_BODY_BYTES; tensors within MAX_PREDICT_BODY_BYTES (an
   * inference body: JSON with or without a Content-Type, possibly compressed, possibly followed by
   * binary tensor data; see tensor-body.ts); or a stream the handler reads against its own limit
   * (model files, JSON Lines uploads, hooks).
   */
  body: 'none' | 'json' | 'tensors' | 'stream';
  /** Error statuses the handler itself answers, beyond those the rules imply. */
  errors?: number[];
}

type DeclaredRoute = Omit<RouteConfig, 'path' | 'security' | 'middleware'> & { path: string };

const declared = new Map<string, RouteRules>();
const routingPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

/** The rules of a declared route (METHOD and hono's path form), for the test that all have some. */
export const rulesOf = (method: string, path: string): RouteRules | undefined =>
  declared.get(`${method.toUpperCase()} ${path}`);

function statusesOf(rules: RouteRules, route: DeclaredRoute): Set<number> {
  const statuses = new Set(rules.errors ?? []);
  const request = route.request;
  if (request?.params || request?.query || request?.body || rules.body === 'tensors') statuses.add(400);
  if (rules.access !== 'public') statuses.add(401);
  if (rules.access !== 'public' && rules.access !== 'signed-in') statuses.add(403);
  if (rules.budget !== 'unmetered') statuses.add(429);
  if (rules.body === 'json' || rules.body === 'tensors') statuses.add(413);
  if (request?.body?.content && 'application/json' in request.body.content) statuses.add(415);
  return statuses;
}

/** A route that can fail for none of the reasons the rules know (a probe, a page) lists no errors. */
function errorResponsesOf(rules: RouteRules, route: DeclaredRoute) {
  const statuses = statusesOf(rules, route);
  return statuses.size === 0 ? {} : errorResponses(route.path, statuses);
}

/** A route of the OpenAPI document, with its rules enforced and documented. */
export function defineRoute<P extends string, R extends DeclaredRoute & { path: P }>(rules: RouteRules, route: R) {
  declared.set(`${route.method.toUpperCase()} ${routingPath(route.path)}`, rules);
  return createRoute({
    ...route,
    ...(rules.access === 'public' ? {} : { security: [{ Bearer: [] }] }),
    middleware: [enforce(rules)],
    responses: { ...route.responses, ...errorResponsesOf(rules, route) },
  } as R & { middleware: MiddlewareHandler<AppEnv>[] });
}

/** The rules of a route outside the OpenAPI document (pages, assets): its own middleware. */
export function plainRoute(method: string, path: string, rules: RouteRules): MiddlewareHandler<AppEnv> {
  declared.set(`${method.toUpperCase()} ${path}`, rules);
  return enforce(rules);
}

const limits = new WeakMap<Config, Record<'json' | 'tensors', MiddlewareHandler>>();

/** hono's body limit, one per configured size (the configuration is read once per isolate). */
function bodyLimits(config: Config): Record<'json' | 'tensors', MiddlewareHandler> {
  let found = limits.get(config);
  if (!found) {
    const limit = (maxSize: number) =>
      bodyLimit({
        maxSize,
        onError: () => {
          throw tooLarge('the request body', maxSize);
        },
      });
    found = { json: limit(config.MAX_JSON_BODY_BYTES), tensors: limit(config.MAX_PREDICT_BODY_BYTES) };
    limits.set(config, found);
  }
  return found;
}

function enforce(rules: RouteRules): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps');
    c.set('rules', rules);
    // A cold isolate starts onnxruntime while the credential and model record are looked up.
    if (rules.body === 'tensors') void warmUpRuntime();
    if (rules.access !== 'public' && rules.access !== 'own-credential') {
      const header = c.req.header(WORKSPACE_HEADER);
      const workspace = header === undefined ? undefined : WorkspaceId.safeParse(header);
      if (workspace && !workspace.success) {
        throw invalidInput(`header '${WORKSPACE_HEADER}': expected a workspace id such as ws_default`);
      }
      // ...and looks the model up while the credential is read (inference/look-ahead.ts).
      const ahead = rules.body === 'tensors' ? modelLookAhead(c, workspace?.data) : undefined;
      const principal = await authenticated(c, workspace?.data);
      const access = c.get('access');
      access.actor = principal.id;
      access.workspace = principal.workspaceId;
      if (rules.access !== 'signed-in') authorize(principal, rules.access);
      c.set('principal', principal);
      await ahead?.keep(principal);
    }
    const plans = plansFor(c, rules);
    if (plans.length > 0) {
      const decisions = plans.map((plan) => takeBudget(deps, plan));
      const refused = decisions.findIndex((d) => !d.allowed);
      if (refused >= 0) throw limited(decisions[refused]!, plans[refused]!);
      // The caller's own budget, set before the handler so the response is built with it.
      const decision = decisions[0]!;
      c.header('RateLimit-Limit', String(decision.limit));
      c.header('RateLimit-Remaining', String(decision.remaining));
      c.header('RateLimit-Reset', String(decision.resetSeconds));
    }
    if (rules.body === 'tensors') {
      return readTensorBody(c, next, deps.config.MAX_PREDICT_BODY_BYTES, bodyLimits(deps.config).tensors);
    }
    if (rules.body === 'json') return bodyLimits(deps.config).json(c, () => checkDepth(c, next));
    await next();
  };
}

/** The model a prediction route names, read beside an unknown API key; none if the path is not valid. */
function modelLookAhead(c: Context<AppEnv>, requested: string | undefined): LookAhead | undefined {
  // The protocol's paths call it {model}, the instances API's {name}.
  const params: Record<string, string | undefined> = c.req.param();
  const model = ModelName.safeParse(params.model ?? params.name);
  const rawVersion = params.version;
  const version = rawVersion === undefined ? undefined : VersionRef.safeParse(rawVersion);
  if (!model.success || (version && !version.success)) return undefined;
  let token: string | undefined;
  try {
    token = bearerToken(c.req.header('authorization'));
  } catch {
    return undefined; // authentication answers the malformed header
  }
  if (!token) return undefined;
  return lookAhead(c.get('deps'), { token, requested, model: model.data, version: version?.data });
}

export const clientAddress = (c: Context<AppEnv>) => c.req.header('cf-connecting-ip') ?? 'unknown';

export function limited(decision: RateDecision, plan: BudgetPlan): RateLimitedError {
  return new RateLimitedError(
    `rate limit exceeded: ${decision.limit} requests per ${plan.windowSeconds} s; retry after ${decision.retryAfterSeconds} s`,
    decision.limit,
    decision.resetSeconds,
    decision.retryAfterSeconds,
  );
}

/** Charges one request to a client address's budget (a failure the handler found); 429 once spent. */
export function chargeAddress(c: Context<AppEnv>, kind: AddressBudget): void {
  const deps = c.get('deps');
  const plan = addressBudget(deps.config, kind, clientAddress(c));
  const decision = takeBudget(deps, plan);
  if (!decision.allowed) throw limited(decision, plan);
}

/**
 * The caller. Failed credentials are counted per client address, and once an address has
 * spent that budget it is refused before any credential is even looked at.
 */
async function authenticated(c: Context<AppEnv>, workspaceId: string | undefined) {
  const deps = c.get('deps');
  const failures = addressBudget(deps.config, 'failed-credential', clientAddress(c));
  const spent = peekBudget(deps, failures);
  if (!spent.allowed) throw limited(spent, failures);
  try {
    return await authenticate(deps, { authorization: c.req.header('authorization'), workspaceId });
  } catch (err) {
    if (err instanceof DomainError && err.kind === 'unauthenticated') takeBudget(deps, failures);
    throw err;
  }
}

/**
 * A JSON body's nesting is checked before any validator walks it (a 14 KB body can nest 7,000
 * levels). hono keeps the parsed body, so the validator that follows does not parse it again;
 * a body that does not parse is left to the validator to refuse.
 */
async function checkDepth(c: Context<AppEnv>, next: Next): Promise<void> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return next();
  }
  requireJsonDepth(body, 'request body');
  await next();
}

function plansFor(c: Context<AppEnv>, rules: RouteRules): BudgetPlan[] {
  const config = c.get('deps').config;
  switch (rules.budget) {
    case 'unmetered':
    case 'hook':
      return [];
    case 'sign-in':
    case 'scrape':
      return [addressBudget(config, rules.budget, clientAddress(c))];
    default: {
      const principal = c.get('principal');
      if (!principal || principal.kind === 'admin') return [];
      return [
        callerBudget(config, principal.workspaceId, principal.id, rules.budget, principal.limits),
        workspaceBudget(config, principal.workspaceId, rules.budget, principal.limits),
      ];
    }
  }
}
