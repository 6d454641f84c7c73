import type { Config } from '../core/config';
import type { Db } from '../storage/db';

/** What the account, key and session services need. */
export interface AuthDeps {
  db: Db;
  config: Config;
}
