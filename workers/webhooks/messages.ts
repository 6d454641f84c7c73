import { z } from 'zod';

/** Queue messages carry ids only; the data they refer to lives in D1 and R2. */
export const WebhookMessage = z.object({ kind: z.literal('deliver'), deliveryId: z.string().min(1) });
export type WebhookMessage = z.infer<typeof WebhookMessage>;
