// @ts-check
/*
 * Local files as request bodies: streamed from disk (never read whole), with a progress bar,
 * and re-openable so a rate-limited request can be sent again.
 */
import { createReadStream, statSync } from 'node:fs';
import { usage } from './errors.mjs';
import { formatBytes } from './output.mjs';

/**
 * @param {string} path
 * @returns {number}
 */
export function fileSize(path) {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error('not a file');
    return stat.size;
  } catch (err) {
    throw usage(`cannot read ${path}: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * A body of known length: `before`, the file's bytes, `after` (multipart framing).
 * @param {import('./output.mjs').Output} out
 * @param {string} label
 * @param {string} path
 * @param {{ contentType: string, before?: Uint8Array, after?: Uint8Array }} options
 * @returns {import('../api/types').RawBody}
 */
export function fileBody(out, label, path, options) {
  const size = fileSize(path);
  const before = options.before ?? new Uint8Array();
  const after = options.after ?? new Uint8Array();
  return {
    contentType: options.contentType,
    length: before.length + size + after.length,
    body: () => {
      const progress = out.progress(label, size, formatBytes);
      async function* parts() {
        yield before;
        let sent = 0;
        progress.update(0);
        for await (const chunk of createReadStream(path)) {
          sent += chunk.length;
          progress.update(sent);
          yield new Uint8Array(chunk);
        }
        progress.done();
        yield after;
      }
      return /** @type {ReadableStream<Uint8Array>} */ (ReadableStream.from(parts()));
    },
  };
}

/**
 * The file as the `file` part of a multipart form, after a `metadata` JSON part.
 * @param {import('./output.mjs').Output} out
 * @param {string} label
 * @param {string} path
 * @param {unknown} metadata
 */
export function multipartFileBody(out, label, path, metadata) {
  const boundary = `modelflare-${crypto.randomUUID()}`;
  const encoder = new TextEncoder();
  const before = encoder.encode(
    [
      `--${boundary}`,
      'Content-Disposition: form-data; name="metadata"',
      'Content-Type: application/json',
      '',
      JSON.stringify(metadata),
      `--${boundary}`,
      'Content-Disposition: form-data; name="file"; filename="model.onnx"',
      'Content-Type: application/octet-stream',
      '',
      '',
    ].join('\r\n'),
  );
  const after = encoder.encode(`\r\n--${boundary}--\r\n`);
  return fileBody(out, label, path, { contentType: `multipart/form-data; boundary=${boundary}`, before, after });
}
