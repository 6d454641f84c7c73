import type { AccessChanges } from '../core/change-feed';
import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import type { Db } from '../storage/db';

/** What the account, key and session services need. */
export interface AuthDeps {
  db: Db;
  config: Config;
  changes: AccessChanges;
  logger: Logger;
}

/** What a write that changes who may do what needs: the database, and the isolate to tell. */
export interface AccessWriteDeps {
  db: Db;
  changes: AccessChanges;
}
