import type { Context, MiddlewareHandler, Next } from 'hono';
import { DomainError, invalidInput, unsupportedMediaType } from '../core/errors';
import type { AppEnv } from './app-env';
import { INFERENCE_HEADER } from '../inference/tensor-binary';
import { readStreamLimited, tooLarge } from './read-body';

/*
 * An inference body as Open Inference Protocol clients send it: JSON, with or without a
 * Content-Type (NVIDIA's tritonclient sends none), possibly compressed (Content-Encoding gzip or
 * deflate, which tritonclient and KServe can send), possibly followed by binary tensor data
 * (Triton's binary tensor data extension: `Inference-Header-Content-Length` gives the JSON
 * header's length, the tensors' bytes follow it). The route's validators then see a plain JSON
 * request of the header; the bytes after it wait in `tensorData` for the adapter.
 */

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/;
/*
 * Types an inference body arrives with besides JSON: KServe's client labels binary bodies
 * octet-stream, and curl labels whatever `-d`/`--data-binary` sends as a form. Triton reads the
 * body by the protocol, not by its label; so does this route (no credential travels in a
 * cookie, so a form a page could post without a preflight carries none).
 */
const OTHER_TYPES = new Set(['application/octet-stream', 'application/x-www-form-urlencoded']);
type Compression = 'gzip' | 'deflate';
const DECODERS: Record<string, Compression> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate' };

const mediaTypeOf = (header: string | null) => (header ?? '').split(';')[0]!.trim().toLowerCase();

/** The body's compression; undefined when it has none. */
function encodingOf(header: string | null): Compression | undefined {
  const encoding = (header ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return undefined;
  const format = DECODERS[encoding];
  if (!format) {
    throw unsupportedMediaType(
      `Content-Encoding '${header}' is not supported; send gzip, deflate or an uncompressed body`,
    );
  }
  return format;
}

/** The JSON header's length, from a header of decimal digits that the body can hold. */
function headerLengthOf(header: string, bodyBytes: number): number {
  if (!/^\d{1,15}$/.test(header.trim())) {
    throw invalidInput(`header '${INFERENCE_HEADER}' must be the JSON header's length in bytes, not '${header}'`);
  }
  const length = Number(header.trim());
  if (length === 0) {
    throw invalidInput(
      `${INFERENCE_HEADER}: 0 (raw tensor bytes without a JSON header) is not served; send the JSON inference header first, with binary_data_size on each binary input`,
    );
  }
  if (length > bodyBytes) {
    throw invalidInput(
      `${INFERENCE_HEADER} is ${length} but the body${bodyBytes === 0 ? ' is empty' : ` has only ${bodyBytes} bytes`}`,
    );
  }
  return length;
}

/** The request's headers as a JSON request of the header alone. */
function asJsonHeaders(headers: Headers): Headers {
  const copy = new Headers(headers);
  copy.set('content-type', 'application/json');
  copy.delete('content-length');
  copy.delete('content-encoding');
  return copy;
}

/**
 * The `tensors` body rule: reads the body within `limit` bytes (after decompression: a small
 * compressed body that inflates past the limit is refused as too large) and hands the validators
 * its JSON header. A plain JSON body goes through `plain` (hono's streaming body limit) as before.
 */
export async function readTensorBody(
  c: Context<AppEnv>,
  next: Next,
  limit: number,
  plain: MiddlewareHandler,
): Promise<void | Response> {
  const raw = c.req.raw;
  const type = mediaTypeOf(raw.headers.get('content-type'));
  if (type !== '' && !OTHER_TYPES.has(type) && !JSON_TYPE.test(type)) {
    throw unsupportedMediaType(
      `an inference body is JSON (Content-Type application/json, or none), optionally followed by binary tensor data (${INFERENCE_HEADER}); not '${type}'`,
    );
  }
  const encoding = encodingOf(raw.headers.get('content-encoding'));
  const split = raw.headers.get(INFERENCE_HEADER);
  if (!encoding && split === null) {
    if (!JSON_TYPE.test(type)) c.req.raw = new Request(raw, { headers: asJsonHeaders(raw.headers) });
    return plain(c, next);
  }
  const declared = Number(raw.headers.get('content-length') ?? NaN);
  // Uncompressed, a declared length past the limit is refused before a byte is read, and one
  // within it is read in one go (the body cannot outgrow its Content-Length).
  if (!encoding && declared > limit) throw tooLarge('the request body', limit);
  const notEncoded = () =>
    invalidInput(`the request body is not valid ${encoding} data (Content-Encoding: ${encoding})`);
  let bytes: Uint8Array;
  try {
    if (!encoding && declared <= limit) bytes = new Uint8Array(await raw.arrayBuffer());
    else {
      const body = encoding && raw.body ? raw.body.pipeThrough(new DecompressionStream(encoding)) : raw.body;
      bytes = encoding
        ? await readStreamLimited(body, limit, 'the request body, decompressed,', notEncoded)
        : await readStreamLimited(body, limit, 'the request body');
    }
  } catch (err) {
    if (err instanceof DomainError || !encoding) throw err;
    throw notEncoded();
  }
  const length = split === null ? bytes.byteLength : headerLengthOf(split, bytes.byteLength);
  if (split !== null) c.set('tensorData', bytes.subarray(length));
  c.req.raw = new Request(raw.url, {
    method: raw.method,
    headers: asJsonHeaders(raw.headers),
    body: bytes.subarray(0, length),
  });
  await next();
}
