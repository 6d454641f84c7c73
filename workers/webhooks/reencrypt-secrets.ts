import { and, count, eq, isNotNull, lt, notLike, or, sql, type SQL } from 'drizzle-orm';
import type { Config } from '../core/config';
import { DomainError } from '../core/errors';
import { openSecret, sealSecret, secretKeyring, type SecretKeyring } from '../core/secret-box';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db } from '../storage/db';
import { modelVersions, jobs, triggers, webhookEndpoints } from '../storage/schema';
import { remoteCredentialContext } from '../inference/backends/remote';
import { secretContext } from './stored-secrets';

/*
 * Moves stored signing secrets (and remote backends' credentials) to the current encryption key: secrets stored in plain text
 * before encryption existed, and secrets sealed with a key that has since been rotated out
 * (SECRETS_PREVIOUS_KEYS). Run by the cron trigger, a bounded number of rows each time; once a
 * pass answers `remaining: 0` the previous keys can be removed. Expired previous secrets (past
 * their 24-hour overlap) are dropped rather than re-encrypted.
 */

export interface ReencryptResult {
  reencrypted: number;
  /** Previous secrets past their overlap, deleted. */
  expiredCleared: number;
  /** Rows that no configured key opens (a key removed too early): left as they are. */
  unreadable: number;
  /** Rows still not under the current key after this pass. */
  remaining: number;
  /** SECRETS_ENCRYPTION_KEY is not set: nothing can be encrypted. */
  keyMissing: boolean;
}

type KeyConfig = Pick<Config, 'SECRETS_ENCRYPTION_KEY' | 'SECRETS_PREVIOUS_KEYS'>;

export async function reencryptSecrets(
  db: Db,
  config: KeyConfig,
  options: { limit?: number; now?: number } = {},
): Promise<ReencryptResult> {
  const limit = options.limit ?? 200;
  const now = options.now ?? Date.now();
  const keyring = await secretKeyring(config);
  const result: ReencryptResult = { reencrypted: 0, expiredCleared: 0, unreadable: 0, remaining: 0, keyMissing: false };
  if (!keyring.current) {
    result.keyMissing = true;
    result.remaining = await countStale(db, undefined);
    return result;
  }
  const sealedNow = `mfs1:${keyring.current.id}:%`;
  for (const table of [webhookEndpoints, triggers] as const) {
    const expired = await db
      .update(table)
      .set({ previousSecret: null, previousSecretExpiresAt: null })
      .where(and(isNotNull(table.previousSecret), lt(table.previousSecretExpiresAt, now)))
      .returning({ id: table.id });
    result.expiredCleared += expired.length;
    const context = table === triggers ? secretContext.trigger : secretContext.endpoint;
    const rows = await db
      .select({ id: table.id, secret: table.secret, previousSecret: table.previousSecret })
      .from(table)
      .where(
        or(
          notLike(table.secret, sealedNow),
          and(isNotNull(table.previousSecret), notLike(table.previousSecret, sealedNow)),
        ),
      )
      .limit(limit);
    for (const row of rows) {
      const moved = await reseal(keyring, context(row.id), [row.secret, row.previousSecret]);
      if (!moved) {
        result.unreadable += 1;
        continue;
      }
      const [secret, previousSecret] = moved;
      // Only if nobody rotated it meanwhile: a rotation writes fresh values under the current key.
      const updated = await db
        .update(table)
        .set({ secret: secret!, previousSecret })
        .where(and(eq(table.id, row.id), eq(table.secret, row.secret)))
        .returning({ id: table.id });
      result.reencrypted += updated.length;
    }
  }
  const jobRows = await db
    .select({ id: jobs.id, webhookSecret: jobs.webhookSecret })
    .from(jobs)
    .where(and(isNotNull(jobs.webhookSecret), notLike(jobs.webhookSecret, sealedNow)))
    .limit(limit);
  for (const row of jobRows) {
    const moved = await reseal(keyring, secretContext.job(row.id), [row.webhookSecret]);
    if (!moved) {
      result.unreadable += 1;
      continue;
    }
    const updated = await db
      .update(jobs)
      .set({ webhookSecret: moved[0]! })
      .where(and(eq(jobs.id, row.id), eq(jobs.webhookSecret, row.webhookSecret!)))
      .returning({ id: jobs.id });
    result.reencrypted += updated.length;
  }
  result.reencrypted += await resealRemoteCredentials(db, keyring, sealedNow, limit, result);
  result.remaining = await countStale(db, sealedNow);
  return result;
}

/** A remote version's credential, inside its `remote` JSON column. */
const remoteCredential = sql<string | null>`json_extract(${modelVersions.remote}, '$.credential')`;

async function resealRemoteCredentials(
  db: Db,
  keyring: SecretKeyring,
  sealedNow: string,
  limit: number,
  result: ReencryptResult,
): Promise<number> {
  const rows = await db
    .select({ id: modelVersions.id, credential: remoteCredential })
    .from(modelVersions)
    .where(and(isNotNull(remoteCredential), notLike(remoteCredential, sealedNow)))
    .limit(limit);
  let moved = 0;
  for (const row of rows) {
    const sealed = await reseal(keyring, remoteCredentialContext(row.id), [row.credential]);
    if (!sealed) {
      result.unreadable += 1;
      continue;
    }
    const updated = await db
      .update(modelVersions)
      .set({ remote: sql`json_set(${modelVersions.remote}, '$.credential', ${sealed[0]!})` })
      .where(and(eq(modelVersions.id, row.id), eq(remoteCredential, row.credential!)))
      .returning({ id: modelVersions.id });
    moved += updated.length;
  }
  return moved;
}

/** Each value opened and sealed again under the current key (null stays null); undefined when one cannot be opened. */
async function reseal(
  keyring: SecretKeyring,
  context: string,
  values: (string | null)[],
): Promise<(string | null)[] | undefined> {
  try {
    return await Promise.all(
      values.map(async (v) =>
        v === null ? null : sealSecret(keyring, await openSecret(keyring, v, context), context),
      ),
    );
  } catch (err) {
    if (err instanceof DomainError) return undefined;
    throw err;
  }
}

/** Rows holding a secret not sealed under the current key (`sealedNow`), or any secret at all when there is none. */
async function countStale(db: Db, sealedNow: string | undefined): Promise<number> {
  const stale = (column: SQLiteColumn): SQL =>
    sealedNow ? and(isNotNull(column), notLike(column, sealedNow))! : isNotNull(column);
  const [endpoints, triggerRows, jobRows, remotes] = await db.batch([
    db
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(or(stale(webhookEndpoints.secret), stale(webhookEndpoints.previousSecret))),
    db
      .select({ n: count() })
      .from(triggers)
      .where(or(stale(triggers.secret), stale(triggers.previousSecret))),
    db.select({ n: count() }).from(jobs).where(stale(jobs.webhookSecret)),
    db
      .select({ n: count() })
      .from(modelVersions)
      .where(
        sealedNow
          ? and(isNotNull(remoteCredential), notLike(remoteCredential, sealedNow))
          : isNotNull(remoteCredential),
      ),
  ]);
  return (endpoints[0]?.n ?? 0) + (triggerRows[0]?.n ?? 0) + (jobRows[0]?.n ?? 0) + (remotes[0]?.n ?? 0);
}
