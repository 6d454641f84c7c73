import { and, desc, eq } from 'drizzle-orm';
import type { Config } from '../core/config';
import { notFound } from '../core/errors';
import { newId } from '../core/ids';
import type { RegistryDeps, Scope } from '../registry/types';
import { newestFirst, pageOf } from '../storage/paging';
import { webhookDeliveries, webhookEndpoints, type WebhookEvent } from '../storage/schema';
import { newStoredSecret, secretContext, storedRotation } from './stored-secrets';
import { checkWebhookUrl } from './url-policy';

/** As stored: `secret` and `previousSecret` encrypted, except in the answers of create and rotate. */
export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

interface Deps extends RegistryDeps {
  config: Config;
}

export async function requireEndpoint(deps: Deps, scope: Scope, id: string): Promise<EndpointRow> {
  const row = await deps.db.query.webhookEndpoints.findFirst({
    where: and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.workspaceId, scope.workspaceId)),
  });
  if (!row) throw notFound(`webhook endpoint '${id}' not found`, { code: 'webhook_not_found' });
  return row;
}

/** Answers the row with its secret in the clear (shown once); D1 keeps it encrypted. */
export async function createEndpoint(
  deps: Deps,
  scope: Scope,
  input: { url: string; events: WebhookEvent[]; description?: string },
): Promise<EndpointRow> {
  const id = newId('whe');
  const url = checkWebhookUrl(input.url, deps.config);
  const secret = await newStoredSecret(deps.config, secretContext.endpoint(id));
  const [row] = await deps.db
    .insert(webhookEndpoints)
    .values({
      id,
      workspaceId: scope.workspaceId,
      url,
      events: [...new Set(input.events)],
      description: input.description ?? '',
      secret: secret.stored,
      createdBy: scope.actorId,
      createdAt: Date.now(),
    })
    .returning();
  return { ...row!, secret: secret.plaintext };
}

export async function listEndpoints(deps: Deps, scope: Scope): Promise<EndpointRow[]> {
  return deps.db.query.webhookEndpoints.findMany({
    where: eq(webhookEndpoints.workspaceId, scope.workspaceId),
    orderBy: desc(webhookEndpoints.createdAt),
  });
}

export async function updateEndpoint(
  deps: Deps,
  scope: Scope,
  id: string,
  input: { url?: string; events?: WebhookEvent[]; description?: string; enabled?: boolean },
): Promise<EndpointRow> {
  await requireEndpoint(deps, scope, id);
  const changes: Partial<EndpointRow> = {
    ...(input.url !== undefined && { url: checkWebhookUrl(input.url, deps.config) }),
    ...(input.events !== undefined && { events: [...new Set(input.events)] }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.enabled !== undefined && { enabled: input.enabled }),
  };
  if (Object.keys(changes).length === 0) return requireEndpoint(deps, scope, id);
  const [row] = await deps.db.update(webhookEndpoints).set(changes).where(eq(webhookEndpoints.id, id)).returning();
  return row!;
}

export async function deleteEndpoint(deps: Deps, scope: Scope, id: string): Promise<void> {
  await requireEndpoint(deps, scope, id);
  await deps.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
}

/**
 * A new secret; the old one keeps signing beside it for a day so receivers can switch over.
 * Answers the row with the new secret in the clear (shown once).
 */
export async function rotateEndpointSecret(deps: Deps, scope: Scope, id: string): Promise<EndpointRow> {
  const current = await requireEndpoint(deps, scope, id);
  const rotation = await storedRotation(deps.config, secretContext.endpoint(id), current.secret);
  const [row] = await deps.db
    .update(webhookEndpoints)
    .set(rotation.columns)
    .where(eq(webhookEndpoints.id, id))
    .returning();
  return { ...row!, secret: rotation.plaintext };
}

export async function listDeliveries(
  deps: Deps,
  scope: Scope,
  endpointId: string,
  query: { limit: number; cursor?: string },
): Promise<{ deliveries: DeliveryRow[]; nextCursor: string | null }> {
  await requireEndpoint(deps, scope, endpointId);
  const { after, orderBy } = newestFirst(webhookDeliveries.createdAt, webhookDeliveries.id, query.cursor);
  const rows = await deps.db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, endpointId), after))
    .orderBy(...orderBy)
    .limit(query.limit + 1);
  const page = pageOf(rows, query.limit, (d) => [d.createdAt, d.id]);
  return { deliveries: page.items, nextCursor: page.nextCursor };
}

export async function requireDelivery(
  deps: Deps,
  scope: Scope,
  endpointId: string,
  deliveryId: string,
): Promise<DeliveryRow> {
  await requireEndpoint(deps, scope, endpointId);
  const row = await deps.db.query.webhookDeliveries.findFirst({
    where: and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)),
  });
  if (!row) throw notFound(`delivery '${deliveryId}' not found`, { code: 'delivery_not_found' });
  return row;
}
