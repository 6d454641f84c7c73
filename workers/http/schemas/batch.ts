import { z } from '@hono/zod-openapi';
import { JOB_STATUSES, WEBHOOK_EVENTS } from '../../storage/schema';
import { ModelName, Timestamp, VersionRef } from './common';
import * as ex from './examples';

const OutputNames = z
  .array(z.string().min(1).max(256))
  .max(64)
  .optional()
  .openapi({ description: 'Model outputs to compute; all when absent' });

export const JobInputBody = z
  .union([
    z.object({ upload_id: z.string().min(1).max(64) }).strict(),
    z.object({ key: z.string().min(1).max(1024) }).strict(),
    z.object({ rows: z.array(z.unknown()).min(1) }).strict(),
  ])
  .openapi('JobInput', {
    description:
      'Where the rows come from: an upload (`upload_id` from POST /v1/uploads), an R2 key under the workspace’s `uploads/<workspace>/` prefix, or `rows` inline (up to MAX_INLINE_ROWS). Each row is one record as in the instances API.',
    example: { upload_id: 'upl_4c2f…' },
  });

export const SubmitJobBody = z
  .object({
    model: ModelName,
    version: VersionRef.optional().openapi({
      description: 'Number or alias; default: production, else latest. Pinned at submission.',
    }),
    input: JobInputBody,
    chunk_size: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .optional()
      .openapi({ description: 'Rows per chunk (default BATCH_CHUNK_ROWS)' }),
    outputs: OutputNames,
    include_input: z.boolean().optional().openapi({ description: 'Copy each input row into its result line' }),
    webhook_url: z
      .string()
      .url()
      .max(2048)
      .optional()
      .openapi({ description: 'Also announce this job’s end to this URL (signed; the secret is in the answer, once)' }),
  })
  .strict()
  .openapi('SubmitJob', { example: ex.SUBMIT_JOB });

const JobStatus = z.enum(JOB_STATUSES);

export const Job = z
  .object({
    id: z.string().openapi({ example: 'job_6f1e…' }),
    status: JobStatus,
    model: z.string(),
    version: z.number().int(),
    input: z.object({ kind: z.enum(['upload', 'key', 'rows']), ref: z.string() }),
    rows: z.object({ total: z.number().int().nullable(), done: z.number().int(), failed: z.number().int() }),
    progress: z.number().nullable().openapi({ description: 'Rows ended (done or failed) / total, 0 to 1' }),
    chunks: z.object({ total: z.number().int().nullable(), done: z.number().int(), failed: z.number().int() }),
    options: z.object({
      chunk_size: z.number().int(),
      outputs: z.array(z.string()).nullable(),
      include_input: z.boolean(),
    }),
    errors: z
      .array(z.object({ index: z.number().int(), error: z.string() }))
      .openapi({ description: 'A sample of row errors' }),
    error: z.string().nullable().openapi({ description: 'Why the job failed as a whole, if it did' }),
    webhook_url: z.string().nullable(),
    trigger_id: z.string().nullable(),
    results_url: z.string(),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
  })
  .openapi('Job', { example: ex.JOB_DONE });

export const SubmittedJob = Job.extend({
  webhook_secret: z.string().nullable().openapi({ description: 'Signing secret of webhook_url; shown once' }),
}).openapi('SubmittedJob', { example: ex.JOB_SUBMITTED });

export const JobList = z
  .object({ jobs: z.array(Job), next_cursor: z.string().nullable() })
  .openapi('JobList', { example: { jobs: [ex.JOB_DONE], next_cursor: null } });

export const Upload = z
  .object({
    id: z.string(),
    key: z.string(),
    size_bytes: z.number().int(),
    filename: z.string().nullable(),
    created_at: Timestamp,
  })
  .openapi('Upload', { example: ex.UPLOAD });

export const TriggerBody = z
  .object({
    name: z.string().min(1).max(128),
    model: ModelName,
    version: VersionRef.optional(),
    chunk_size: z.number().int().min(1).max(10000).optional(),
    outputs: OutputNames,
    include_input: z.boolean().optional(),
  })
  .strict()
  .openapi('CreateTrigger', { example: ex.CREATE_TRIGGER });

export const Trigger = z
  .object({
    id: z.string(),
    name: z.string(),
    model: z.string(),
    version: z.string().nullable(),
    hook_url: z.string().openapi({ example: '/v1/hooks/trg_…' }),
    options: z.object({
      chunk_size: z.number().int(),
      outputs: z.array(z.string()).nullable(),
      include_input: z.boolean(),
    }),
    created_at: Timestamp,
  })
  .openapi('Trigger', { example: ex.TRIGGER });

export const TriggerWithSecret = Trigger.extend({
  secret: z
    .string()
    .openapi({ description: 'whsec_… signing secret; shown once', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
}).openapi('TriggerWithSecret', { example: { ...ex.TRIGGER, secret: ex.SECRET } });

export const TriggerList = z
  .object({ triggers: z.array(Trigger) })
  .openapi('TriggerList', { example: { triggers: [ex.TRIGGER] } });

export const HookAccepted = z
  .object({
    job_id: z.string(),
    duplicate: z.boolean().openapi({ description: 'true when this webhook-id was seen before' }),
  })
  .openapi('HookAccepted', { example: ex.HOOK_ACCEPTED });

const Events = z.array(z.enum(WEBHOOK_EVENTS)).min(1);

export const WebhookEndpointBody = z
  .object({ url: z.string().max(2048), events: Events, description: z.string().max(512).optional() })
  .strict()
  .openapi('CreateWebhookEndpoint', { example: ex.CREATE_WEBHOOK });

export const UpdateWebhookEndpointBody = z
  .object({
    url: z.string().max(2048).optional(),
    events: Events.optional(),
    description: z.string().max(512).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi('UpdateWebhookEndpoint', { example: { enabled: false } });

export const WebhookEndpoint = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    description: z.string(),
    enabled: z.boolean(),
    created_at: Timestamp,
  })
  .openapi('WebhookEndpoint', { example: ex.WEBHOOK });

export const WebhookEndpointList = z
  .object({ webhooks: z.array(WebhookEndpoint) })
  .openapi('WebhookEndpointList', { example: { webhooks: [ex.WEBHOOK] } });

export const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  secret: z.string().openapi({ description: 'whsec_… signing secret; shown once' }),
}).openapi('WebhookEndpointWithSecret', { example: { ...ex.WEBHOOK, secret: ex.SECRET } });

export const Delivery = z
  .object({
    id: z.string().openapi({ description: 'Also the webhook-id header of every attempt' }),
    event: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: Timestamp,
    last_attempt_at: Timestamp.nullable(),
    delivered_at: Timestamp.nullable(),
  })
  .openapi('WebhookDelivery', { example: ex.DELIVERY });

export const DeliveryList = z
  .object({ deliveries: z.array(Delivery), next_cursor: z.string().nullable() })
  .openapi('DeliveryList', { example: { deliveries: [ex.DELIVERY], next_cursor: null } });
