import { UNNAMED, type Store } from '../../workers/storage/outage';
import captured from './outages.json';

/*
 * The errors real local bindings throw when a store is unavailable (outages.json, captured by
 * test/node/store-outages.ts for each local runtime), rebuilt as the runtime gives them: same
 * class, message, the flags workerd sets (`remote`, `retryable`) and the frames of its own
 * wrappers in the stack. The fault suite injects these, not messages written to match
 * workers/storage/outage.ts.
 */

export interface Shape {
  name: string;
  message: string;
  flags: Record<string, boolean>;
  frames: string[];
}

export const RUNNING = 'storage directory deleted, store object still running';
export const RESTARTED = 'storage directory deleted, store object restarted';
export const BROKER = 'queue broker answering 500';

interface Capture {
  runtime: { miniflare: string; workerd: string };
  outages: Record<string, Record<string, Shape>>;
  notOutages: Record<string, Shape>;
}

/** By local runtime: `wrangler dev` (what `npm start` serves on) and the one these tests run in. */
export const CAPTURES = captured.runtimes as Record<string, Capture>;
/** The runtime the workers tests run in (the vitest integration's Miniflare and workerd). */
export const TEST_RUNTIME = 'vitest (workers project)';

const CONSTRUCTORS: Record<string, ErrorConstructor> = { Error, TypeError, RangeError };

/** The error a binding threw, made again. */
export function rebuild(shape: Shape): Error {
  const err = new (CONSTRUCTORS[shape.name] ?? Error)(shape.message);
  for (const [flag, value] of Object.entries(shape.flags)) {
    Object.defineProperty(err, flag, { value, enumerable: true, configurable: true, writable: true });
  }
  err.stack = [`${shape.name}: ${shape.message}`, ...shape.frames.map((f) => `    ${f}`)].join('\n');
  return err;
}

/** The probe's binding for each of the worker's. */
const PROBE_BINDING: Record<string, string> = {
  DB: 'DB',
  BUCKET: 'BUCKET',
  CACHE: 'CACHE',
  BATCH_QUEUE: 'QUEUE',
  WEBHOOK_QUEUE: 'QUEUE',
};

/**
 * What `binding.method` throws in this test runtime when its store is down: the store's object
 * restarted without its storage (D1, R2, KV), or the broker answering 500 (Queues).
 */
export function realOutage(binding: string, method: string, situation?: string): Error {
  const call = `${PROBE_BINDING[binding] ?? binding}.${method}`;
  const where = situation ?? (PROBE_BINDING[binding] === 'QUEUE' ? BROKER : RESTARTED);
  const shape = CAPTURES[TEST_RUNTIME]?.outages[where]?.[call];
  if (!shape) throw new Error(`no captured outage of ${call} (${where}) in test/faults/outages.json`);
  return rebuild(shape);
}

/**
 * The store a captured outage must be attributed to: D1's errors keep its wrapper's frames, R2
 * and KV name themselves only when their object answered (`put: Unspecified error (0)`, `KV PUT
 * failed: 500 …`); once it is gone workerd's error names no store.
 */
export function expectedStore(situation: string, call: string): Store {
  if (situation === BROKER) return 'Queues';
  if (call.startsWith('DB.')) return 'D1';
  if (situation === RUNNING && call.startsWith('BUCKET.')) return 'R2';
  if (situation === RUNNING && call.startsWith('CACHE.')) return 'KV';
  return UNNAMED;
}
