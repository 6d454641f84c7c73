import { and, desc, eq, lt } from 'drizzle-orm';
import { submitJob, type JobInput, type JobView } from './jobs';
import type { BatchDeps } from './deps';
import { notFound } from '../core/errors';
import { newId } from '../core/ids';
import { resolveServed } from '../inference/served-versions';
import type { Scope } from '../registry/types';
import { triggerDeliveries, triggers } from '../storage/schema';
import { verifyHookSignature, type HookHeaders } from '../webhooks/hook-verification';
import { newStoredSecret, secretContext, storedRotation } from '../webhooks/stored-secrets';

/** As stored: `secret` and `previousSecret` encrypted, except in the answers of create and rotate. */
export type TriggerRow = typeof triggers.$inferSelect;

export interface TriggerSpec {
  name: string;
  model: string;
  version?: string;
  chunkSize?: number;
  outputs?: string[] | null;
  includeInput?: boolean;
}

/** Answers the row with its secret in the clear (shown once); D1 keeps it encrypted. */
export async function createTrigger(deps: BatchDeps, scope: Scope, spec: TriggerSpec): Promise<TriggerRow> {
  await resolveServed(deps, scope, spec.model, spec.version); // the model (and version) must exist now
  const id = newId('trg');
  const secret = await newStoredSecret(deps.config, secretContext.trigger(id));
  const [row] = await deps.db
    .insert(triggers)
    .values({
      id,
      workspaceId: scope.workspaceId,
      name: spec.name,
      modelName: spec.model,
      versionRef: spec.version ?? null,
      chunkSize: spec.chunkSize ?? deps.config.BATCH_CHUNK_ROWS,
      outputs: spec.outputs ?? null,
      includeInput: spec.includeInput ?? false,
      secret: secret.stored,
      createdBy: scope.actorId,
      createdAt: Date.now(),
    })
    .returning();
  return { ...row!, secret: secret.plaintext };
}

export async function requireTrigger(deps: BatchDeps, scope: Scope, id: string): Promise<TriggerRow> {
  const row = await deps.db.query.triggers.findFirst({
    where: and(eq(triggers.id, id), eq(triggers.workspaceId, scope.workspaceId)),
  });
  if (!row) throw notFound(`trigger '${id}' not found`, { code: 'trigger_not_found' });
  return row;
}

export async function listTriggers(deps: BatchDeps, scope: Scope): Promise<TriggerRow[]> {
  return deps.db.query.triggers.findMany({
    where: eq(triggers.workspaceId, scope.workspaceId),
    orderBy: desc(triggers.createdAt),
  });
}

export async function deleteTrigger(deps: BatchDeps, scope: Scope, id: string): Promise<void> {
  await requireTrigger(deps, scope, id);
  await deps.db.batch([
    deps.db.delete(triggerDeliveries).where(eq(triggerDeliveries.triggerId, id)),
    deps.db.delete(triggers).where(eq(triggers.id, id)),
  ]);
}

/** Answers the row with the new secret in the clear (shown once). */
export async function rotateTriggerSecret(deps: BatchDeps, scope: Scope, id: string): Promise<TriggerRow> {
  const current = await requireTrigger(deps, scope, id);
  const rotation = await storedRotation(deps.config, secretContext.trigger(id), current.secret);
  const [row] = await deps.db.update(triggers).set(rotation.columns).where(eq(triggers.id, id)).returning();
  return { ...row!, secret: rotation.plaintext };
}

export interface HookDelivery {
  payload: string;
  headers: Record<string, string>;
  /** The parsed body, validated by the caller once the signature holds. */
  input: (payload: string) => JobInput;
}

/**
 * An inbound webhook: verified against the trigger's secrets (constant time, five-minute window),
 * then started (startVerifiedHook). A route that charges budgets verifies first itself
 * (verifyHookSignature) and calls startVerifiedHook once the signature holds.
 */
export async function receiveHook(
  deps: BatchDeps,
  triggerId: string,
  delivery: HookDelivery,
): Promise<{ job: JobView | null; jobId: string; duplicate: boolean }> {
  const trigger = await verifyHookSignature(deps, triggerId, delivery.payload, hookHeaders(delivery.headers));
  return startVerifiedHook(deps, trigger, delivery);
}

const hookHeaders = (headers: Record<string, string>): HookHeaders => ({
  'webhook-id': headers['webhook-id'] ?? '',
  'webhook-timestamp': headers['webhook-timestamp'] ?? '',
  'webhook-signature': headers['webhook-signature'] ?? '',
});

/**
 * Starts the job of a delivery whose signature verifyHookSignature accepted, deduplicated by
 * webhook-id: a retried delivery answers with the job the first one started instead of
 * starting another.
 */
export async function startVerifiedHook(
  deps: BatchDeps,
  trigger: TriggerRow,
  delivery: HookDelivery,
): Promise<{ job: JobView | null; jobId: string; duplicate: boolean }> {
  const triggerId = trigger.id;
  const input = delivery.input(delivery.payload);
  const webhookId = delivery.headers['webhook-id']!;
  const jobId = newId('job');
  const reserved = await deps.db
    .insert(triggerDeliveries)
    .values({ triggerId, webhookId, jobId, receivedAt: Date.now() })
    .onConflictDoNothing()
    .returning();
  if (reserved.length === 0) {
    const first = await deps.db.query.triggerDeliveries.findFirst({
      where: and(eq(triggerDeliveries.triggerId, triggerId), eq(triggerDeliveries.webhookId, webhookId)),
    });
    return { job: null, jobId: first!.jobId, duplicate: true };
  }
  const scope: Scope = { workspaceId: trigger.workspaceId, actorId: `trigger:${trigger.id}` };
  try {
    const { job } = await submitJob(deps, scope, {
      id: jobId,
      model: trigger.modelName,
      version: trigger.versionRef ?? undefined,
      input,
      chunkSize: trigger.chunkSize,
      outputs: trigger.outputs,
      includeInput: trigger.includeInput,
      triggerId: trigger.id,
    });
    return { job, jobId, duplicate: false };
  } catch (err) {
    // The job was refused (bad input, model gone): let the sender retry the same webhook-id.
    await deps.db
      .delete(triggerDeliveries)
      .where(and(eq(triggerDeliveries.triggerId, triggerId), eq(triggerDeliveries.webhookId, webhookId)));
    throw err;
  }
}

/** webhook-ids are kept a day: far past the five-minute window in which a replay could verify. */
export async function pruneTriggerDeliveries(deps: BatchDeps, now = Date.now()): Promise<void> {
  await deps.db.delete(triggerDeliveries).where(lt(triggerDeliveries.receivedAt, now - 24 * 60 * 60 * 1000));
}
