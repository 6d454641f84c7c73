import { z } from 'zod';

/** Batch queue messages: references to D1 rows, never row data, far below the 128 KB limit. */
export const BatchMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('plan'), jobId: z.string().min(1) }),
  z.object({ kind: z.literal('chunk'), jobId: z.string().min(1), index: z.number().int().min(0) }),
]);
export type BatchMessage = z.infer<typeof BatchMessage>;
