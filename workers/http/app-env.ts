import type { Principal } from '../auth/principal';
import type { ErrorCode } from '../core/errors';
import type { PlatformDeps } from '../platform/deps';
import type { Env } from '../platform/env';
import type { RouteRules } from './route';

/** What the access line adds to method, route, status and duration; read by nothing else. */
export interface AccessFields {
  actor?: string;
  workspace?: string;
  model?: string;
  version?: number;
  rows?: number;
  cache?: string;
  code?: ErrorCode;
  outage?: string;
  job?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Set by hono's request-id middleware (a well-formed incoming X-Request-Id is kept). */
    requestId: string;
    startedAt: number;
    deps: PlatformDeps;
    /** The caller, on every route whose rules ask for a credential. */
    principal: Principal;
    access: AccessFields;
    /** The rules of the route being served (see route.ts). */
    rules: RouteRules;
    /** The error the caller was answered with, if any (errors.ts sets it; request-scope records it). */
    failure?: { code: ErrorCode; message: string };
    /** The bytes after an inference body's JSON header: binary tensor data (see tensor-body.ts). */
    tensorData?: Uint8Array;
  };
}
