import type { z } from '@hono/zod-openapi';
import type { JobView } from '../../batch/jobs';
import type { UploadRow } from '../../batch/uploads';
import type { DeliveryRow, EndpointRow } from '../../webhooks/endpoints';
import type { TriggerRow } from '../../batch/triggers';
import { iso } from '../schemas/common';
import type { Delivery, Job, Trigger, Upload, WebhookEndpoint } from '../schemas/batch';

export function presentJob(j: JobView): z.infer<typeof Job> {
  const ended = j.rowsDone + j.rowsFailed;
  return {
    id: j.id,
    status: j.status,
    model: j.modelName,
    version: j.version,
    input: j.inputSource,
    rows: { total: j.rowsTotal, done: j.rowsDone, failed: j.rowsFailed },
    progress: j.rowsTotal ? Math.round((ended / j.rowsTotal) * 10000) / 10000 : j.rowsTotal === 0 ? 1 : null,
    chunks: { total: j.chunksTotal, done: j.chunksDone, failed: j.chunksFailed },
    options: { chunk_size: j.chunkSize, outputs: j.outputs, include_input: j.includeInput },
    errors: j.errors,
    error: j.error,
    webhook_url: j.webhookUrl,
    trigger_id: j.triggerId,
    results_url: `/v1/jobs/${j.id}/results`,
    created_at: iso(j.createdAt)!,
    started_at: iso(j.startedAt),
    finished_at: iso(j.finishedAt),
  };
}

export const presentUpload = (u: UploadRow): z.infer<typeof Upload> => ({
  id: u.id,
  key: u.key,
  size_bytes: u.sizeBytes,
  filename: u.filename,
  created_at: iso(u.createdAt)!,
});

export const presentTrigger = (t: TriggerRow): z.infer<typeof Trigger> => ({
  id: t.id,
  name: t.name,
  model: t.modelName,
  version: t.versionRef,
  hook_url: `/v1/hooks/${t.id}`,
  options: { chunk_size: t.chunkSize, outputs: t.outputs, include_input: t.includeInput },
  created_at: iso(t.createdAt)!,
});

export const presentEndpoint = (e: EndpointRow): z.infer<typeof WebhookEndpoint> => ({
  id: e.id,
  url: e.url,
  events: e.events,
  description: e.description,
  enabled: e.enabled,
  created_at: iso(e.createdAt)!,
});

export const presentDelivery = (d: DeliveryRow): z.infer<typeof Delivery> => ({
  id: d.id,
  event: d.event,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  created_at: iso(d.createdAt)!,
  last_attempt_at: iso(d.lastAttemptAt),
  delivered_at: iso(d.deliveredAt),
});
