import { withDeadline } from '../core/deadline';
import type { Tensor } from '../core/tensor';
import { MemoryTier } from './memory-tier';

/*
 * Predictions cached in KV, with the hottest also kept in the isolate. The key hashes the version's identity (its id and the file's
 * sha256), the inputs in canonical form (sorted by name; datatype, shape and the raw element
 * bytes, so `1` and `1.0`, flat and nested data all meet) and the requested outputs. A version
 * id belongs to one workspace, so neither another version nor another tenant can share a key.
 */

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/** `use` reads and writes; `refresh` skips the read (no-cache); `bypass` does neither (no-store). */
export type CacheMode = 'use' | 'refresh' | 'bypass';

const encoder = new TextEncoder();

function tensorBytes(tensor: Tensor): Uint8Array {
  if (Array.isArray(tensor.data)) {
    // Length-prefixed UTF-8 so ["ab", "c"] and ["a", "bc"] differ.
    return encoder.encode(tensor.data.map((s) => `${s.length}:${s}`).join('\n'));
  }
  const view = tensor.data as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
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
 * The isolate's own tier in front of KV: up to 4 Mi characters of predictions, none over
 * 64 Ki (larger answers cost little next to the inference that made them).
 */
export const predictionMemory = new MemoryTier(4 * 1024 * 1024, 64 * 1024);

/** Stored with each KV entry so a copy read into the isolate expires when the entry does. */
interface EntryMetadata {
  expires_at: number;
}

/**
 * The cached prediction, or null. The cache only saves work: a KV read that fails, or that
 * has not answered within `timeoutMs`, counts as a miss and the model answers instead.
 */
export async function readPrediction(
  kv: KVNamespace,
  key: string,
  timeoutMs: number,
  now = Date.now(),
): Promise<string | null> {
  const local = predictionMemory.get(key, now);
  if (local !== undefined) return local;
  try {
    const { value, metadata } = await withDeadline(
      kv.getWithMetadata<EntryMetadata>(key, 'text'),
      timeoutMs,
      'prediction cache read',
    );
    if (value !== null && metadata?.expires_at) predictionMemory.set(key, value, metadata.expires_at);
    return value;
  } catch (err) {
    console.error(
      JSON.stringify({ level: 'warn', msg: 'prediction cache read failed; computing', error: String(err) }),
    );
    return null;
  }
}

/**
 * Keeps the prediction in this isolate at once and in KV when the returned promise settles.
 * KV refuses TTLs under 60 s; the model setting is validated to respect that.
 */
export function writePrediction(kv: KVNamespace, key: string, value: string, ttlSeconds: number): Promise<void> {
  const ttl = Math.max(60, ttlSeconds);
  const expiresAt = Date.now() + ttl * 1000;
  predictionMemory.set(key, value, expiresAt);
  return kv.put(key, value, { expirationTtl: ttl, metadata: { expires_at: expiresAt } satisfies EntryMetadata });
}
