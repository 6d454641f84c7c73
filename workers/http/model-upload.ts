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
  const m = parsed.data;
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
