import { invalidModel, type DomainError } from '../core/errors';
import { errorFields } from '../core/logger';
import { newId } from '../core/ids';
import type { OnnxHeader, Signature } from '../core/signature';
import { readOnnxHeader } from '../runtime/onnx-header';
import { isUniqueViolation } from '../storage/db';
import { artifactKey } from '../storage/r2-keys';
import { requireModel } from './models';
import type { ModelVersion, RegistryDeps, Scope } from './types';
import { insertVersion, refuseDuplicate, requireModelForUpload, type VersionFields } from './versions';

/*
 * A version the native runner serves: the file streams to R2 as a multipart upload in fixed
 * parts while its sha256 is computed, so a file of gigabytes never sits in the isolate's
 * memory (one part at a time does). The file's top level is then read back from R2 in small
 * ranges, and the runner itself loads the file and says its signature (`describe`) before the
 * version is numbered. Any refusal deletes the file again.
 */

const MiB = 1024 * 1024;
/** R2 wants every part but the last of one size, at least 5 MiB. */
export const PART_BYTES = 10 * MiB;

export interface StoredFile {
  key: string;
  sha256: string;
  sizeBytes: number;
}

const hex = (buffer: ArrayBuffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Streams `body` into R2 at `key` in parts of PART_BYTES, hashing it on the way. More than
 * `maxBytes` aborts the upload with `tooLarge()`; nothing is left in R2 on any failure.
 */
export async function streamToR2(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => DomainError,
  customMetadata: Record<string, string>,
): Promise<StoredFile> {
  const upload = await bucket.createMultipartUpload(key, {
    httpMetadata: { contentType: 'application/octet-stream' },
    customMetadata,
  });
  const digest = new crypto.DigestStream('SHA-256');
  const hashing = digest.getWriter();
  const parts: R2UploadedPart[] = [];
  let part = new Uint8Array(PART_BYTES);
  let filled = 0;
  let total = 0;
  const reader = body.getReader();
  const flush = async () => {
    parts.push(await upload.uploadPart(parts.length + 1, filled === PART_BYTES ? part : part.slice(0, filled)));
    part = new Uint8Array(PART_BYTES);
    filled = 0;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw tooLarge();
      await hashing.write(value);
      let at = 0;
      while (at < value.byteLength) {
        const take = Math.min(PART_BYTES - filled, value.byteLength - at);
        part.set(value.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === PART_BYTES) await flush();
      }
    }
    if (total === 0) throw invalidModel('the model file is empty');
    if (filled > 0) await flush();
    await hashing.close();
    await upload.complete(parts);
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    await upload.abort().catch(() => undefined);
    throw err;
  }
  return { key, sha256: hex(await digest.digest), sizeBytes: total };
}

/** Protobuf varint at `at`: its value and length, or undefined when `bytes` ends first. */
function varint(bytes: Uint8Array, at: number): { value: number; length: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && at + i < bytes.length; i++) {
    const byte = bytes[at + i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, length: i + 1 };
    scale *= 128;
  }
  return undefined;
}

/**
 * The ModelProto's top level read from R2 in ranges: every field but the graph (field 7, the
 * bulk of the file) is copied, the graph's header is kept with an empty body, and the copy goes
 * through the same reader as an uploaded file's.
 */
export async function readStoredOnnxHeader(bucket: R2Bucket, key: string, size: number): Promise<OnnxHeader> {
  const fail = (why: string) =>
    invalidModel(`not a valid ONNX model: the protobuf cannot be read (${why}); the file may be truncated or not ONNX`);
  const kept: Uint8Array[] = [];
  let pos = 0;
  let fields = 0;
  while (pos < size) {
    if (++fields > 10_000) throw fail('more than 10,000 top-level fields');
    const head = new Uint8Array(
      await (await bucket.get(key, { range: { offset: pos, length: Math.min(24, size - pos) } }))!.arrayBuffer(),
    );
    const tag = varint(head, 0);
    if (!tag) throw fail(`malformed field tag at byte ${pos}`);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value & 7;
    let length: number;
    let lengthBytes = 0;
    if (wire === 0) {
      const v = varint(head, tag.length);
      if (!v) throw fail(`malformed varint at byte ${pos}`);
      length = 0;
      lengthBytes = v.length;
    } else if (wire === 2) {
      const v = varint(head, tag.length);
      if (!v) throw fail(`malformed length at byte ${pos}`);
      length = v.value;
      lengthBytes = v.length;
    } else if (wire === 1 || wire === 5) {
      length = wire === 1 ? 8 : 4;
    } else {
      throw fail(`unknown protobuf wire type ${wire} at byte ${pos}`);
    }
    const end = pos + tag.length + lengthBytes + length;
    if (end > size) throw fail(`a field declares ${length} bytes at byte ${pos} but only ${size - pos} remain`);
    if (field === 7 && wire === 2) {
      // The graph: its tag and a zero length stand in for it.
      kept.push(new Uint8Array([...head.subarray(0, tag.length), 0]));
    } else if (end - pos > 1024 * 1024) {
      throw fail(`a top-level field of ${end - pos} bytes at byte ${pos} that is not the graph`);
    } else {
      kept.push(
        new Uint8Array(await (await bucket.get(key, { range: { offset: pos, length: end - pos } }))!.arrayBuffer()),
      );
    }
    pos = end;
  }
  const copy = new Uint8Array(kept.reduce((sum, k) => sum + k.byteLength, 0));
  let at = 0;
  for (const k of kept) {
    copy.set(k, at);
    at += k.byteLength;
  }
  const { nodes: _nodes, ...header } = readOnnxHeader(copy);
  return header;
}

export interface StreamedUpload {
  body: ReadableStream<Uint8Array>;
  maxBytes: number;
  tooLarge: () => DomainError;
  fields: VersionFields;
  /** Loads the stored file where it will be served and says its signature; throws to refuse it. */
  describe: (versionId: string, file: StoredFile) => Promise<Signature>;
}

/** Registers a runner version from a streamed body (see the top of this file). */
export async function createStreamedVersion(
  deps: RegistryDeps,
  scope: Scope,
  name: string,
  upload: StreamedUpload,
): Promise<ModelVersion> {
  const existing = await requireModelForUpload(deps, scope, name);
  const id = newId('ver');
  const key = artifactKey(scope.workspaceId, id);
  const file = await streamToR2(deps.bucket, key, upload.body, upload.maxBytes, upload.tooLarge, {
    workspace: scope.workspaceId,
    model: name,
  });
  try {
    const header = await readStoredOnnxHeader(deps.bucket, key, file.sizeBytes);
    if (existing) await refuseDuplicate(deps, existing, file.sha256);
    const signature = await upload.describe(id, file);
    let row;
    try {
      row = await insertVersion(deps, scope, name, {
        id,
        key,
        sha256: file.sha256,
        bytes: file.sizeBytes,
        signature,
        header,
        serving: null,
        fields: upload.fields,
        backend: 'runner',
      });
    } catch (err) {
      if (isUniqueViolation(err, 'model_versions.sha256')) {
        await refuseDuplicate(deps, await requireModel(deps, scope, name), file.sha256);
      }
      throw err;
    }
    deps.changes.modelChanged(scope.workspaceId, name);
    return { ...row, modelName: name, aliases: [] };
  } catch (err) {
    await deps.bucket
      .delete(key)
      .catch((cleanup: unknown) =>
        deps.logger.warn('file of a failed upload left in R2', { key, ...errorFields(cleanup) }),
      );
    throw err;
  }
}
