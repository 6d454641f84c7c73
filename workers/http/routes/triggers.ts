import { z } from '@hono/zod-openapi';
import { DomainError, invalidInput } from '../../core/errors';
import { requireJsonDepth } from '../../core/json-depth';
import { hookBudget, takeBudget } from '../../ratelimit/budgets';
import { verifyHookSignature } from '../../webhooks/hook-verification';
import {
  createTrigger,
  deleteTrigger,
  listTriggers,
  requireTrigger,
  startVerifiedHook,
  rotateTriggerSecret,
} from '../../batch/triggers';
import { audit } from '../audit';
import { chargeAddress, defineRoute, limited } from '../route';
import { presentTrigger } from '../presenters/batch';
import { readBodyLimited } from '../read-body';
import { describeZodError, newRouter } from '../router';
import { scopeOf } from '../scope';
import { HookAccepted, JobInputBody, Trigger, TriggerBody, TriggerList, TriggerWithSecret } from '../schemas/batch';
import { jsonContent } from '../schemas/common';
import { jobInputFrom } from './jobs';

const Id = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
// The signature covers the bytes sent: a leading BOM is kept, and bytes that are not UTF-8 are
// refused rather than replaced (two different bodies must never decode to the same text).
const decoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });

function bodyText(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw invalidInput('the webhook body is not UTF-8 text');
  }
}

export const triggerRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'json', errors: [404] },
      {
        method: 'post',
        path: '/v1/triggers',
        tags: ['Batch'],
        summary: 'Create a trigger',
        description:
          'A trigger lets another system start batch jobs for a model (or alias) by webhook: it POSTs the input (`{"upload_id"}`, `{"key"}` or `{"rows"}`) to the trigger’s hook_url, signed per Standard Webhooks with the secret in this answer (shown once).',
        request: { body: { required: true, content: { 'application/json': { schema: TriggerBody } } } },
        responses: {
          201: jsonContent(TriggerWithSecret, 'The trigger and its secret'),
        },
      },
    ),
    async (c) => {
      const body = c.req.valid('json');
      const trigger = await createTrigger(c.get('deps'), scopeOf(c), {
        name: body.name,
        model: body.model,
        version: body.version,
        chunkSize: body.chunk_size,
        outputs: body.outputs,
        includeInput: body.include_input,
      });
      await audit(c, {
        action: 'trigger.create',
        target: `trigger:${trigger.id}`,
        details: { name: trigger.name, model: trigger.modelName },
      });
      return c.json({ ...presentTrigger(trigger), secret: trigger.secret }, 201);
    },
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'none' },
      {
        method: 'get',
        path: '/v1/triggers',
        tags: ['Batch'],
        summary: 'List triggers',
        description: 'The workspace’s triggers (without secrets).',
        responses: {
          200: jsonContent(TriggerList, 'Triggers'),
        },
      },
    ),
    async (c) => c.json({ triggers: (await listTriggers(c.get('deps'), scopeOf(c))).map(presentTrigger) }, 200),
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/triggers/{id}',
        tags: ['Batch'],
        summary: 'Get a trigger',
        description: 'One trigger (without its secret).',
        request: { params: Id },
        responses: { 200: jsonContent(Trigger, 'The trigger') },
      },
    ),
    async (c) => c.json(presentTrigger(await requireTrigger(c.get('deps'), scopeOf(c), c.req.valid('param').id)), 200),
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'delete',
        path: '/v1/triggers/{id}',
        tags: ['Batch'],
        summary: 'Delete a trigger',
        description: 'Its hook URL answers 404 from then on; jobs it started are kept.',
        request: { params: Id },
        responses: { 204: { description: 'Deleted' } },
      },
    ),
    async (c) => {
      await deleteTrigger(c.get('deps'), scopeOf(c), c.req.valid('param').id);
      await audit(c, { action: 'trigger.delete', target: `trigger:${c.req.valid('param').id}` });
      return c.body(null, 204);
    },
  )
  .openapi(
    defineRoute(
      { access: 'jobs', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'post',
        path: '/v1/triggers/{id}/rotate-secret',
        tags: ['Batch'],
        summary: 'Rotate a trigger’s secret',
        description:
          'Issues a new secret (in this answer only); deliveries signed with the previous one are accepted for 24 hours more.',
        request: { params: Id },
        responses: { 200: jsonContent(TriggerWithSecret, 'The new secret') },
      },
    ),
    async (c) => {
      const trigger = await rotateTriggerSecret(c.get('deps'), scopeOf(c), c.req.valid('param').id);
      await audit(c, { action: 'trigger.rotate_secret', target: `trigger:${trigger.id}` });
      return c.json({ ...presentTrigger(trigger), secret: trigger.secret }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'public', budget: 'hook', body: 'stream', errors: [401, 404, 413] },
      {
        method: 'post',
        path: '/v1/hooks/{id}',
        tags: ['Batch'],
        summary: 'Start a job by signed webhook',
        description: [
          'The inbound end of a trigger. No bearer token: the request is authenticated by its Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature over `id.timestamp.body` with the trigger’s secret). Refused with 401 when the signature does not match or the timestamp is more than five minutes away (replay).',
          'A delivery whose webhook-id was already accepted answers 202 with the job the first one started (`duplicate: true`), so a retrying sender never starts two jobs.',
        ].join('\n\n'),
        request: {
          params: Id,
          // A reference, not the zod schema: the signature covers the raw bytes, so the handler
          // reads them itself and validates after verifying.
          body: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/JobInput' } } },
          },
        },
        responses: {
          202: jsonContent(HookAccepted, 'The job started (or started before)'),
        },
      },
    ),
    async (c) => {
      const deps = c.get('deps');
      const payload = bodyText(await readBodyLimited(c.req.raw, deps.config.MAX_JSON_BODY_BYTES, 'the webhook body'));
      const headers = {
        'webhook-id': c.req.header('webhook-id') ?? '',
        'webhook-timestamp': c.req.header('webhook-timestamp') ?? '',
        'webhook-signature': c.req.header('webhook-signature') ?? '',
      };
      // Verified before any budget is charged: unsigned or forged calls spend their sender's
      // address budget, never the trigger's, so junk cannot block the real sender.
      let trigger;
      try {
        trigger = await verifyHookSignature(deps, c.req.valid('param').id, payload, headers);
      } catch (err) {
        if (err instanceof DomainError && (err.kind === 'unauthenticated' || err.kind === 'not_found')) {
          chargeAddress(c, 'refused-hook');
        }
        throw err;
      }
      const plan = hookBudget(deps.config, trigger.id);
      const decision = takeBudget(deps, plan);
      if (!decision.allowed) throw limited(decision, plan);
      const result = await startVerifiedHook(deps, trigger, {
        payload,
        headers,
        input: (text) => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            throw invalidInput('the webhook body is not valid JSON');
          }
          requireJsonDepth(json, 'the webhook body');
          const parsed = JobInputBody.safeParse(json);
          if (!parsed.success) throw invalidInput(describeZodError(parsed.error, 'json'));
          return jobInputFrom(parsed.data);
        },
      });
      c.get('access').job = result.jobId;
      return c.json({ job_id: result.jobId, duplicate: result.duplicate }, 202);
    },
  );
