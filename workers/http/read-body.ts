import { invalidInput, payloadTooLarge } from '../core/errors';

const formatBytes = (n: number) =>
  n >= 1048576
    ? `${(n / 1048576).toFixed(n % 1048576 ? 1 : 0)} MiB`
    : n >= 1024
      ? `${Math.round(n / 1024)} KiB`
      : `${n} bytes`;

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the limit is refused
 * before anything is read; a body without one is counted as it streams and cut off at the limit.
 */
export const tooLarge = (what: string, limit: number) =>
  payloadTooLarge(`${what} is larger than the limit of ${formatBytes(limit)}`);

export async function readBodyLimited(request: Request, limit: number, what: string): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > limit) throw tooLarge(what, limit);
  return readStreamLimited(request.body, limit, what);
}

/**
 * Reads a stream up to `limit` bytes, counted as they arrive; cut off (413) past the limit.
 * A stream that fails is a client that went away, unless `failed` says what else it means (a
 * decompression stream fails on data that is not what its encoding says).
 */
export async function readStreamLimited(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
  what: string,
  failed?: () => Error,
): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch {
      // The client went away mid-body: its request, not a store of ours, failed (the runtime's
      // "Network connection lost" would otherwise read as a storage outage).
      throw (
        failed?.() ?? invalidInput(`${what} did not arrive whole: the connection closed after ${formatBytes(total)}`)
      );
    }
    const { done, value } = next;
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(what, limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
