import { z } from '@hono/zod-openapi';
import { resend } from '../../webhooks/delivery';
import {
  createEndpoint,
  deleteEndpoint,
  listDeliveries,
  listEndpoints,
  requireDelivery,
  requireEndpoint,
  rotateEndpointSecret,
  updateEndpoint,
} from '../../webhooks/endpoints';
import { audit } from '../audit';
import { defineRoute } from '../route';
import { presentDelivery, presentEndpoint } from '../presenters/batch';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import {
  Delivery,
  DeliveryList,
  UpdateWebhookEndpointBody,
  WebhookEndpoint,
  WebhookEndpointBody,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
} from '../schemas/batch';
import { Cursor, Limit, jsonContent } from '../schemas/common';

const Id = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const DeliveryParams = Id.extend({
  delivery_id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'delivery_id', in: 'path' } }),
});

export const webhookRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'json' },
      {
        method: 'post',
        path: '/v1/webhooks',
        tags: ['Webhooks'],
        summary: 'Register a webhook endpoint',
        description:
          'Platform events (job.succeeded, job.partially_failed, job.failed, job.cancelled, model.version.created, alias.moved, alias.rolled_back, alias.promoted, drift.detected, alert.fired, alert.resolved) are POSTed to the URL, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). The signing secret is in this answer only. URLs must be https and public outside local development.',
        request: { body: { required: true, content: { 'application/json': { schema: WebhookEndpointBody } } } },
        responses: {
          201: jsonContent(WebhookEndpointWithSecret, 'The endpoint and its secret'),
        },
      },
    ),
    async (c) => {
      const endpoint = await createEndpoint(c.get('deps'), scopeOf(c), c.req.valid('json'));
      await audit(c, { action: 'webhook.create', target: `webhook:${endpoint.id}`, details: { url: endpoint.url } });
      return c.json({ ...presentEndpoint(endpoint), secret: endpoint.secret }, 201);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/webhooks',
        tags: ['Webhooks'],
        summary: 'List webhook endpoints',
        description: 'The workspace’s endpoints (without secrets).',
        responses: {
          200: jsonContent(WebhookEndpointList, 'Endpoints'),
        },
      },
    ),
    async (c) => c.json({ webhooks: (await listEndpoints(c.get('deps'), scopeOf(c))).map(presentEndpoint) }, 200),
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/webhooks/{id}',
        tags: ['Webhooks'],
        summary: 'Get a webhook endpoint',
        description: 'One endpoint (without its secret).',
        request: { params: Id },
        responses: { 200: jsonContent(WebhookEndpoint, 'The endpoint') },
      },
    ),
    async (c) =>
      c.json(presentEndpoint(await requireEndpoint(c.get('deps'), scopeOf(c), c.req.valid('param').id)), 200),
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'json', errors: [404] },
      {
        method: 'patch',
        path: '/v1/webhooks/{id}',
        tags: ['Webhooks'],
        summary: 'Update a webhook endpoint',
        description: 'Change the URL, the events, the description, or pause it (`"enabled": false`).',
        request: {
          params: Id,
          body: { required: true, content: { 'application/json': { schema: UpdateWebhookEndpointBody } } },
        },
        responses: { 200: jsonContent(WebhookEndpoint, 'The endpoint') },
      },
    ),
    async (c) => {
      const endpoint = await updateEndpoint(c.get('deps'), scopeOf(c), c.req.valid('param').id, c.req.valid('json'));
      await audit(c, {
        action: 'webhook.update',
        target: `webhook:${endpoint.id}`,
        details: { fields: Object.keys(c.req.valid('json')) },
      });
      return c.json(presentEndpoint(endpoint), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'delete',
        path: '/v1/webhooks/{id}',
        tags: ['Webhooks'],
        summary: 'Delete a webhook endpoint',
        description: 'Stops deliveries to it; pending deliveries are marked failed when their turn comes.',
        request: { params: Id },
        responses: { 204: { description: 'Deleted' } },
      },
    ),
    async (c) => {
      await deleteEndpoint(c.get('deps'), scopeOf(c), c.req.valid('param').id);
      await audit(c, { action: 'webhook.delete', target: `webhook:${c.req.valid('param').id}` });
      return c.body(null, 204);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'post',
        path: '/v1/webhooks/{id}/rotate-secret',
        tags: ['Webhooks'],
        summary: 'Rotate an endpoint’s secret',
        description:
          'Issues a new secret (in this answer only). For 24 hours deliveries carry two signatures, one per secret, so the receiver can switch without missing any.',
        request: { params: Id },
        responses: { 200: jsonContent(WebhookEndpointWithSecret, 'The new secret') },
      },
    ),
    async (c) => {
      const endpoint = await rotateEndpointSecret(c.get('deps'), scopeOf(c), c.req.valid('param').id);
      await audit(c, { action: 'webhook.rotate_secret', target: `webhook:${endpoint.id}` });
      return c.json({ ...presentEndpoint(endpoint), secret: endpoint.secret }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/webhooks/{id}/deliveries',
        tags: ['Webhooks'],
        summary: 'List deliveries',
        description: 'Deliveries to the endpoint, newest first: status, attempts, last response code and error.',
        request: { params: Id, query: z.object({ limit: Limit, cursor: Cursor }) },
        responses: { 200: jsonContent(DeliveryList, 'A page of deliveries') },
      },
    ),
    async (c) => {
      const page = await listDeliveries(c.get('deps'), scopeOf(c), c.req.valid('param').id, c.req.valid('query'));
      return c.json({ deliveries: page.deliveries.map(presentDelivery), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'admin', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'post',
        path: '/v1/webhooks/{id}/deliveries/{delivery_id}/resend',
        tags: ['Webhooks'],
        summary: 'Re-send a delivery',
        description: 'Queues the delivery again with the same webhook-id (receivers deduplicate on it).',
        request: { params: DeliveryParams },
        responses: { 202: jsonContent(Delivery, 'Queued') },
      },
    ),
    async (c) => {
      const { id, delivery_id } = c.req.valid('param');
      const deps = c.get('deps');
      await requireDelivery(deps, scopeOf(c), id, delivery_id);
      await resend(deps, delivery_id);
      return c.json(presentDelivery(await requireDelivery(deps, scopeOf(c), id, delivery_id)), 202);
    },
  );
