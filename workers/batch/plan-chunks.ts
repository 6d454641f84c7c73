/*
 * Splits a JSONL input into chunks of whole lines by reading it once as a stream: only the
 * byte offsets of chunk boundaries are kept, never the data, so the consumers can each fetch
 * their own byte range from R2. Every line is a row (a blank line is a row with an error);
 * a final newline does not start an empty last row.
 */
export interface ChunkPlan {
  index: number;
  firstRow: number;
  rowCount: number;
  byteOffset: number;
  byteLength: number;
}

const NEWLINE = 10;

export async function planChunks(
  stream: ReadableStream<Uint8Array>,
  rowsPerChunk: number,
): Promise<{ rows: number; chunks: ChunkPlan[] }> {
  const chunks: ChunkPlan[] = [];
  let rows = 0;
  let position = 0; // bytes read so far
  let lineStart = 0; // offset where the current (unfinished) line starts
  let chunkStart = 0;
  let chunkRows = 0;
  const close = (end: number) => {
    chunks.push({
      index: chunks.length,
      firstRow: rows - chunkRows,
      rowCount: chunkRows,
      byteOffset: chunkStart,
      byteLength: end - chunkStart,
    });
    chunkStart = end;
    chunkRows = 0;
  };
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let from = 0;
    for (;;) {
      const at = value.indexOf(NEWLINE, from);
      if (at === -1) break;
      rows += 1;
      chunkRows += 1;
      lineStart = position + at + 1;
      if (chunkRows === rowsPerChunk) close(lineStart);
      from = at + 1;
    }
    position += value.byteLength;
  }
  if (position > lineStart) {
    rows += 1;
    chunkRows += 1;
  }
  if (chunkRows > 0) close(position);
  return { rows, chunks };
}

const atFileStart = new TextDecoder();
// A BOM is not data only at the start of the file: one that opens a later chunk is part of its
// first line, as it would be anywhere else in a chunk, so the answer cannot depend on chunk_size.
const afterFileStart = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The rows of one chunk's bytes, as text lines (without their newline). */
export function splitLines(bytes: Uint8Array, expectedRows: number, byteOffset = 0): string[] {
  const text = (byteOffset === 0 ? atFileStart : afterFileStart).decode(bytes);
  const lines = text.split('\n');
  if (lines.length === expectedRows + 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}
