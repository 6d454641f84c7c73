import { describe, expect, it } from 'vitest';
import { sequenceStream } from '../../workers/core/streams';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A stream of `chunks` that records how far it was read and whether it was cancelled. */
function source(chunks: string[]) {
  const seen = { pulled: 0, cancelled: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[seen.pulled++];
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
    cancel(reason) {
      seen.cancelled = reason ?? 'cancelled';
    },
  });
  return { stream, seen };
}

describe('sequenceStream', () => {
  it('reads its parts one after the other, bytes and streams alike, skipping empty ones', async () => {
    const a = source(['a1', 'a2']);
    const b = source(['b1']);
    const parts = [a.stream, encoder.encode(''), encoder.encode('mid'), b.stream];
    let opened = 0;
    const stream = sequenceStream(async () => {
      const part = parts[opened];
      if (part !== undefined) opened += 1;
      return part;
    });
    expect(decoder.decode(await new Response(stream).arrayBuffer())).toBe('a1a2midb1');
    expect(opened).toBe(4);
  });

  it('opens a part only when the reader gets to it, and stops when the reader goes away', async () => {
    const first = source(['one', 'two', 'three']);
    let opened = 0;
    const stream = sequenceStream(async () => {
      opened += 1;
      return opened === 1 ? first.stream : source(['never']).stream;
    });
    const reader = stream.getReader();
    expect(decoder.decode((await reader.read()).value)).toBe('one');
    // The client left: the part being read is cancelled and no other part is ever opened.
    await reader.cancel(new Error('client went away'));
    expect(first.seen.cancelled).toBeInstanceOf(Error);
    expect(opened).toBe(1);
    expect(first.seen.pulled).toBeLessThan(3);
  });
});
