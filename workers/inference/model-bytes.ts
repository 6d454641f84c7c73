import { artifactMissing } from '../registry/artifacts';

/*
 * Model files for a cold isolate. R2 may sit on another continent, so the bytes are read
 * through the Workers Cache API of this location first, keyed by the file's sha256 (content
 * addressed: identical bytes, identical key, never stale).
 */
export interface ModelFile {
  sha256: string;
  artifactKey: string;
}

export interface ByteSource {
  bucket: R2Bucket;
  /** Keeps the cache write alive after the response (ctx.waitUntil). */
  defer: (work: Promise<unknown>) => void;
}

const cacheKey = (sha256: string) => new Request(`https://artifacts.modelflare.internal/sha256/${sha256}`);
const openCache = () => caches.open('modelflare-artifacts');

/** This location's cached copy of a model file, or null. */
export async function readCachedModelBytes(sha256: string): Promise<Uint8Array | null> {
  const hit = await (await openCache()).match(cacheKey(sha256));
  return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
}

/** The model file from R2, the source of truth. */
export async function readStoredModelBytes(bucket: R2Bucket, artifactKey: string): Promise<Uint8Array> {
  const object = await bucket.get(artifactKey);
  if (!object) throw artifactMissing(artifactKey);
  return new Uint8Array(await object.arrayBuffer());
}

export async function readModelBytes(source: ByteSource, file: ModelFile): Promise<Uint8Array> {
  const cached = await readCachedModelBytes(file.sha256);
  if (cached) return cached;
  const bytes = await readStoredModelBytes(source.bucket, file.artifactKey);
  source.defer(
    openCache().then((cache) =>
      cache.put(
        cacheKey(file.sha256),
        new Response(bytes, {
          headers: {
            'Content-Type': 'application/octet-stream',
            'Cache-Control': 'public, max-age=604800, immutable',
          },
        }),
      ),
    ),
  );
  return bytes;
}
