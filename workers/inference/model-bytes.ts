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

export async function readModelBytes(source: ByteSource, file: ModelFile): Promise<Uint8Array> {
  const cache = await caches.open('modelflare-artifacts');
  const hit = await cache.match(cacheKey(file.sha256));
  if (hit) return new Uint8Array(await hit.arrayBuffer());
  const object = await source.bucket.get(file.artifactKey);
  if (!object) throw new Error(`model file ${file.artifactKey} is missing from R2`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  source.defer(
    cache.put(
      cacheKey(file.sha256),
      new Response(bytes, {
        headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'public, max-age=604800, immutable' },
      }),
    ),
  );
  return bytes;
}
