import { withDeadline } from '../core/deadline';
import type { Logger } from '../core/logger';
import { errorFields } from '../core/logger';
import type { Tensor } from '../core/tensor';
import { MemoryTier } from './memory-tier';

/*
 * Predictions cached in three tiers, nearest first:
 * - the isolate's memory (no I/O at all);
 * - this location's Cache API (no round trip leaves the data center);
 * - KV, shared by every location, for models that ask for it (`cache.shared`): a KV read may
 *   cross a continent, so it is worth waiting for only when the model costs more, and it is
 *   read with a deadline close to the model's own compute time.
 * The key hashes the version's identity (its id and the file's sha256), the inputs in canonical
 * form (sorted by name; datatype, shape and the raw element bytes, so `1` and `1.0`, flat and
 * nested data all meet) and the requested outputs. A version id belongs to one workspace, so
 * neither another version nor another tenant can share a key.
 */

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/** `use` reads and writes; `refresh` skips the read (no-cache); `bypass` does neither (no-store). */
export type CacheMode = 'use' | 'refresh' | 'bypass';

/** Where a hit came from, for Server-Timing. */
export type CacheTier = 'memory' | 'location' | 'kv';

const encoder = new TextEncoder();

function tensorBytes(tensor: Tensor): Uint8Array {
  if (Array.isArray(tensor.data)) {
    // Length-prefixed UTF-8 so ["ab", "c"] and ["a", "bc"] differ.
    return encoder.encode(tensor.data.map((s) => `${s.length}:${s}`).join('\n'));
  }
  const view = tensor.data as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hex(buffer: ArrayBuffer): string {
  let out = '';
  for (const b of new Uint8Array(buffer)) out += HEX[b];
  return out;
}

export async function predictionKey(
  version: { versionId: string; sha256: string },
  inputs: Record<string, Tensor>,
  outputs: readonly string[],
): Promise<string> {
  const names = Object.keys(inputs).sort();
  const header = encoder.encode(
    JSON.stringify([
      version.versionId,
      version.sha256,
      outputs,
      names.map((n) => [n, inputs[n]!.datatype, inputs[n]!.shape]),
    ]),
  );
  const parts = [header, ...names.map((n) => tensorBytes(inputs[n]!))];
  const total = parts.reduce((sum, p) => sum + p.byteLength + 1, 0);
  const buffer = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    buffer.set(part, offset);
    offset += part.byteLength + 1;
  }
  return `pred:${version.versionId}:${hex(await crypto.subtle.digest('SHA-256', buffer))}`;
}

/**
 * The isolate's tier: up to 4 Mi characters of predictions, none over 64 Ki (larger answers
 * cost little next to the inference that made them).
 */
export class PredictionCache {
  readonly memory = new MemoryTier(4 * 1024 * 1024, 64 * 1024);
}

export interface PredictionCacheDeps {
  predictionCache: PredictionCache;
  kv: KVNamespace;
  logger: Logger;
  defer: (work: Promise<unknown>) => void;
}

/** Stored with each KV entry so a copy read into the isolate expires when the entry does. */
interface EntryMetadata {
  expires_at: number;
}

const LOCATION_CACHE = 'modelflare-predictions';
const locationKey = (key: string) => new Request(`https://predictions.modelflare.internal/${key}`);
const EXPIRES_HEADER = 'Modelflare-Expires-At';

export interface ReadOptions {
  /** Whether the model keeps its predictions in KV too. */
  shared: boolean;
  /** How long a KV read may take before the model answers instead. */
  kvDeadlineMs: number;
}

/**
 * The cached prediction and its tier, or null. The cache only saves work: a tier that fails,
 * or a KV read that has not answered by its deadline, counts as a miss.
 */
export async function readPrediction(
  deps: PredictionCacheDeps,
  key: string,
  options: ReadOptions,
  now = Date.now(),
): Promise<{ value: string; tier: CacheTier } | null> {
  const memory = deps.predictionCache.memory;
  const local = memory.get(key, now);
  if (local !== undefined) return { value: local, tier: 'memory' };
  try {
    const hit = await (await caches.open(LOCATION_CACHE)).match(locationKey(key));
    if (hit) {
      const value = await hit.text();
      const expiresAt = Number(hit.headers.get(EXPIRES_HEADER));
      if (expiresAt > now) {
        memory.set(key, value, expiresAt);
        return { value, tier: 'location' };
      }
    }
  } catch (err) {
    deps.logger.warn('prediction cache (location) read failed; going on', errorFields(err));
  }
  if (!options.shared) return null;
  try {
    const { value, metadata } = await withDeadline(
      deps.kv.getWithMetadata<EntryMetadata>(key, 'text'),
      options.kvDeadlineMs,
      'prediction cache read',
    );
    if (value === null) return null;
    if (metadata?.expires_at) {
      memory.set(key, value, metadata.expires_at);
      deps.defer(putLocation(key, value, metadata.expires_at));
    }
    return { value, tier: 'kv' };
  } catch (err) {
    deps.logger.warn('prediction cache (KV) read failed or was late; computing', errorFields(err));
    return null;
  }
}

async function putLocation(key: string, value: string, expiresAt: number): Promise<void> {
  const seconds = Math.max(1, Math.floor((expiresAt - Date.now()) / 1000));
  await (
    await caches.open(LOCATION_CACHE)
  ).put(
    locationKey(key),
    new Response(value, {
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': `public, max-age=${seconds}`,
        [EXPIRES_HEADER]: String(expiresAt),
      },
    }),
  );
}

/**
 * Keeps the prediction in this isolate at once, and in this location's cache (and KV when
 * shared) after the response. KV refuses TTLs under 60 s; the model setting respects that.
 */
export function writePrediction(
  deps: PredictionCacheDeps,
  key: string,
  value: string,
  ttlSeconds: number,
  shared: boolean,
): void {
  const ttl = Math.max(60, ttlSeconds);
  const expiresAt = Date.now() + ttl * 1000;
  deps.predictionCache.memory.set(key, value, expiresAt);
  deps.defer(putLocation(key, value, expiresAt));
  if (shared) {
    deps.defer(
      deps.kv.put(key, value, { expirationTtl: ttl, metadata: { expires_at: expiresAt } satisfies EntryMetadata }),
    );
  }
}
