import { invalidInput, unsupportedMediaType } from '../core/errors';
import { requireJsonDepth } from '../core/json-depth';
import type { VersionFields } from '../registry/versions';
import { readBodyLimited, tooLarge } from './read-body';
import { describeZodError } from './router';
import { VersionFieldsBody } from './schemas/registry';
import { ILL_FORMED, illFormedPath } from './well-formed';

/** Room for multipart boundaries and the metadata part on top of the model itself. */
const MULTIPART_OVERHEAD = 256 * 1024;

export interface ModelUpload {
  bytes: Uint8Array;
  fields: VersionFields;
}

function parseMetadata(raw: string): VersionFields {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw invalidInput("the 'metadata' part is not valid JSON");
  }
  requireJsonDepth(json, "the 'metadata' part");
  const parsed = VersionFieldsBody.safeParse(json);
  if (!parsed.success) throw invalidInput(describeZodError(parsed.error, "'metadata' part"));
  const at = illFormedPath(parsed.data);
  if (at !== undefined) throw invalidInput(`'metadata' part${at ? ` '${at}'` : ''}: ${ILL_FORMED}`);
  return versionFieldsOf(parsed.data);
}

/**
 * The model file as a stream (and metadata), for files the runner serves: a raw octet-stream
 * body is passed on as it arrives, never read whole; a multipart form is read first (up to
 * `maxFormBytes`), then its file part streamed.
 */
export async function readModelUploadStream(
  request: Request,
  maxBytes: number,
  maxFormBytes: number,
): Promise<{ body: ReadableStream<Uint8Array>; fields: VersionFields }> {
  const mediaType = (request.headers.get('content-type') ?? '').toLowerCase();
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (mediaType.startsWith('application/octet-stream')) {
    if (declared > maxBytes) throw tooLarge('the model file', maxBytes);
    return { body: request.body ?? new Blob([]).stream(), fields: {} };
  }
  const upload = await readModelUpload(request, Math.min(maxBytes, maxFormBytes));
  return { body: new Blob([upload.bytes]).stream(), fields: upload.fields };
}

/** The version fields of a JSON body's metadata (snake case on the wire). */
export function versionFieldsOf(m: {
  description?: string;
  tags?: Record<string, string>;
  metrics?: Record<string, number>;
  feature_names?: string[] | null;
  class_labels?: string[] | null;
}): VersionFields {
  return {
    description: m.description,
    tags: m.tags,
    metrics: m.metrics,
    featureNames: m.feature_names,
    classLabels: m.class_labels,
  };
}

/** The model bytes (and metadata) from a raw octet-stream body or a multipart form. */
export async function readModelUpload(request: Request, maxBytes: number): Promise<ModelUpload> {
  // The media type is case-insensitive; the multipart boundary is not (browsers mix cases).
  const contentType = request.headers.get('content-type') ?? '';
  const mediaType = contentType.toLowerCase();
  if (mediaType.startsWith('application/octet-stream')) {
    return { bytes: await readBodyLimited(request, maxBytes, 'the model file'), fields: {} };
  }
  if (!mediaType.startsWith('multipart/form-data')) {
    throw unsupportedMediaType(
      `send the model as "Content-Type: application/octet-stream" (the raw ONNX bytes) or as multipart/form-data with a 'file' part; got ${contentType ? `"${contentType}"` : 'no Content-Type'}`,
    );
  }
  const body = await readBodyLimited(request, maxBytes + MULTIPART_OVERHEAD, 'the upload');
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw invalidInput('the multipart body cannot be parsed; check the boundary and part headers');
  }
  const file = form.get('file');
  if (file === null || typeof file === 'string') {
    throw invalidInput("the multipart body has no 'file' part holding the ONNX file");
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw tooLarge('the model file', maxBytes);
  const metadata = form.get('metadata');
  const fields =
    metadata === null ? {} : parseMetadata(typeof metadata === 'string' ? metadata : await metadata.text());
  return { bytes, fields };
}
