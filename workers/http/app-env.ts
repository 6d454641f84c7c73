import type { Principal } from '../auth/principal';
import type { Config } from '../core/config';
import type { Env } from '../core/env';
import type { PlatformDeps } from '../deps';
import type { ServedVersion } from '../inference/served-versions';

/** What the access log adds to its line beyond method, route and status. */
export interface LogFields {
  model?: string;
  version?: number | string;
  [key: string]: unknown;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    startedAt: number;
    principal: Principal;
    config: Config;
    deps: PlatformDeps;
    log: LogFields;
    /** The model version a prediction route resolved, for monitoring. */
    served?: ServedVersion;
  };
}
