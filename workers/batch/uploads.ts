import { and, eq } from 'drizzle-orm';
import type { Config } from '../core/config';
import { invalidInput, notFound, payloadTooLarge } from '../core/errors';
import { requireJsonDepth } from '../core/json-depth';
import { newId } from '../core/ids';
import type { RegistryDeps, Scope } from '../registry/types';
import { uploadKey, workspaceInputPrefix } from '../storage/r2-keys';
import { uploads } from '../storage/schema';

export type UploadRow = typeof uploads.$inferSelect;

interface Deps extends RegistryDeps {
  config: Config;
}

/**
 * Streams a JSONL body straight into R2 (never held in memory). R2 needs the length up front,
 * so the body must declare it; the declared length is also what the size limit checks.
 */
export async function createUpload(
  deps: Deps,
  scope: Scope,
  body: ReadableStream<Uint8Array> | null,
  length: number,
  filename?: string,
): Promise<UploadRow> {
  if (!body || length === 0) throw invalidInput('the upload is empty: send the JSONL file as the request body');
  if (length > deps.config.MAX_UPLOAD_BYTES) {
    throw payloadTooLarge(
      `the upload is larger than the limit of ${deps.config.MAX_UPLOAD_BYTES} bytes (MAX_UPLOAD_BYTES)`,
    );
  }
  const id = newId('upl');
  const key = uploadKey(scope.workspaceId, id);
  const counted = new FixedLengthStream(length);
  const piping = body.pipeTo(counted.writable);
  try {
    await Promise.all([
      deps.bucket.put(key, counted.readable, { httpMetadata: { contentType: 'application/x-ndjson' } }),
      piping,
    ]);
  } catch (err) {
    await deps.bucket.delete(key);
    throw invalidInput(`the upload did not arrive whole: ${(err as Error).message}`);
  }
  return recordUpload(deps, scope, { id, key, sizeBytes: length, filename: filename ?? null });
}

async function recordUpload(
  deps: Deps,
  scope: Scope,
  upload: Pick<UploadRow, 'id' | 'key' | 'sizeBytes' | 'filename'>,
): Promise<UploadRow> {
  const [row] = await deps.db
    .insert(uploads)
    .values({ ...upload, workspaceId: scope.workspaceId, createdBy: scope.actorId, createdAt: Date.now() })
    .returning();
  return row!;
}

/** Inline rows become an upload like any other, so every job reads its input from R2. */
export async function uploadRows(deps: Deps, scope: Scope, rows: unknown[]): Promise<UploadRow> {
  if (rows.length > deps.config.MAX_INLINE_ROWS) {
    throw invalidInput(
      `at most ${deps.config.MAX_INLINE_ROWS} rows may be sent inline; upload larger inputs with POST /v1/uploads`,
    );
  }
  rows.forEach((row, i) => requireJsonDepth(row, `row ${i}`));
  const bytes = new TextEncoder().encode(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const id = newId('upl');
  const key = uploadKey(scope.workspaceId, id);
  await deps.bucket.put(key, bytes, { httpMetadata: { contentType: 'application/x-ndjson' } });
  return recordUpload(deps, scope, { id, key, sizeBytes: bytes.byteLength, filename: null });
}

export async function requireUpload(deps: RegistryDeps, scope: Scope, id: string): Promise<UploadRow> {
  const row = await deps.db.query.uploads.findFirst({
    where: and(eq(uploads.id, id), eq(uploads.workspaceId, scope.workspaceId)),
  });
  if (!row) throw notFound(`upload '${id}' not found`, { code: 'upload_not_found' });
  return row;
}

/** An R2 key named by the caller: only under the workspace's own prefix, and it must exist. */
export async function requireOwnedKey(deps: RegistryDeps, scope: Scope, key: string): Promise<string> {
  const prefix = workspaceInputPrefix(scope.workspaceId);
  if (!key.startsWith(prefix) || key.includes('..')) {
    throw notFound(`object '${key}' not found`, { code: 'input_not_found' });
  }
  const head = await deps.bucket.head(key);
  if (!head) throw notFound(`object '${key}' not found`, { code: 'input_not_found' });
  return key;
}

/** Removes an upload that only a job that could not be created would have read (inline rows). */
export async function discardUpload(deps: RegistryDeps, upload: Pick<UploadRow, 'id' | 'key'>): Promise<void> {
  await deps.db.delete(uploads).where(eq(uploads.id, upload.id));
  await deps.bucket.delete(upload.key);
}
