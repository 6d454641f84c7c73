import type { BatchDeps } from './deps';
import { planJob } from './planner';
import { failChunk, runChunk } from './chunk-runner';
import { endJob } from './completion';
import { BatchMessage } from './messages';
import { backoffSeconds } from '../core/backoff';

import { errorFields } from '../core/logger';

/** The batch queue: plan jobs and score chunks; failures retry with exponential backoff. */
export async function consumeBatch(batch: MessageBatch<unknown>, deps: BatchDeps): Promise<void> {
  for (const message of batch.messages) {
    const parsed = BatchMessage.safeParse(message.body);
    if (!parsed.success) {
      deps.logger.error('malformed batch message dropped', { message_id: message.id });
      message.ack();
      continue;
    }
    const body = parsed.data;
    try {
      if (body.kind === 'plan') await planJob(deps, body.jobId);
      else await runChunk(deps, body.jobId, body.index);
      message.ack();
    } catch (err) {
      const delaySeconds = backoffSeconds(message.attempts, deps.config.BATCH_RETRY_BASE_SECONDS);
      deps.logger.warn('batch message failed; retrying', {
        ...body,
        attempts: message.attempts,
        delay_s: delaySeconds,
        ...errorFields(err),
      });
      message.retry({ delaySeconds });
    }
  }
}

/** The batch dead-letter queue: what kept failing is failed for good, and the job goes on. */
export async function consumeBatchDeadLetters(batch: MessageBatch<unknown>, deps: BatchDeps): Promise<void> {
  for (const message of batch.messages) {
    const parsed = BatchMessage.safeParse(message.body);
    if (parsed.success) {
      const body = parsed.data;
      deps.logger.error('batch message dead-lettered', { ...body, attempts: message.attempts });
      if (body.kind === 'plan')
        await endJob(deps, body.jobId, 'failed', 'the job could not be planned (dead-lettered)');
      else await failChunk(deps, body.jobId, body.index);
    }
    message.ack();
  }
}
