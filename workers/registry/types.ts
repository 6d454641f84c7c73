import type { ModelChanges } from '../core/change-feed';
import type { Logger } from '../core/logger';
import type { Db } from '../storage/db';
import type { modelAliases, models, modelVersions } from '../storage/schema';

export interface RegistryDeps {
  db: Db;
  bucket: R2Bucket;
  /** Told of every change, so this isolate's copies of resolutions drop it at once. */
  changes: ModelChanges;
  logger: Logger;
}

/** Who is acting and in which workspace; every registry call is confined to that workspace. */
export interface Scope {
  workspaceId: string;
  actorId: string;
}

export type ModelRow = typeof models.$inferSelect;
export type VersionRow = typeof modelVersions.$inferSelect;
export type AliasRow = typeof modelAliases.$inferSelect;

export type Task = ModelRow['task'];

export interface Model extends ModelRow {
  /** Highest version that is not archived: what `latest` resolves to. */
  latestVersion: number | null;
  aliases: Record<string, number>;
}

export interface ModelVersion extends VersionRow {
  modelName: string;
  aliases: string[];
}
