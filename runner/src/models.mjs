// @ts-check
/*
 * The runner's loaded models: keyed by version id, an LRU bounded by memory (counted as file
 * size: onnxruntime holds the weights once), concurrent cold requests sharing one load. A model
 * is fetched from the worker's file source (an R2 key it names), streamed to disk while its
 * sha256 is checked, loaded by onnxruntime-node from the file, and the file removed again.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ort from 'onnxruntime-node';
import { BadRequest, datatypeOf } from './tensors.mjs';

/** Where a model's file is: its R2 key, sha256 and size, as the worker says. */
/** @typedef {{ key: string, sha256: string, size: number }} Source */

/** @typedef {{ name: string, datatype: string, shape: number[] }} Spec */

/**
 * @typedef {object} Loaded
 * @property {import('onnxruntime-node').InferenceSession} session
 * @property {{ inputs: Spec[], outputs: Spec[] }} signature
 * @property {number} bytes
 * @property {number} runs  runs in flight (a model is not evicted while it runs)
 * @property {number} lastUsed
 */

/** A failure of the file source, not of the request: answered 502. */
export class SourceError extends Error {}

const UNNAMED_DYNAMIC_DIM = 4294967295;

/** @param {readonly any[]} metadata @param {string} role */
function specs(metadata, role) {
  return metadata.map((m) => {
    const datatype = m.isTensor ? datatypeOf(m.type) : undefined;
    if (!datatype)
      throw new BadRequest(
        `${role} '${m.name}' is not a tensor the protocol can carry (${m.type ?? 'sequence or map'})`,
      );
    return {
      name: m.name,
      datatype,
      shape: m.shape.map((/** @type {unknown} */ d) =>
        typeof d === 'number' && d !== UNNAMED_DYNAMIC_DIM && d >= 0 ? d : -1,
      ),
    };
  });
}

export class ModelStore {
  /** @type {Map<string, Loaded>} */
  #loaded = new Map();
  /** @type {Map<string, Promise<Loaded>>} */
  #loading = new Map();
  #used = 0;

  /**
   * @param {object} options
   * @param {number} options.maxBytes  memory the loaded models may take together
   * @param {number} options.threads  onnxruntime intra-op threads per session
   * @param {string} options.sourceUrl  base URL of the worker's model files
   * @param {string} options.token  the runner token, presented to the file source
   * @param {(event: string, fields: Record<string, unknown>) => void} options.log
   */
  constructor(options) {
    this.options = options;
    this.stats = { loads: 0, loadSeconds: 0, loadFailures: 0, evictions: 0 };
  }

  get usedBytes() {
    return this.#used;
  }

  get count() {
    return this.#loaded.size;
  }

  /** @param {string} id */
  peek(id) {
    return this.#loaded.get(id);
  }

  /**
   * The loaded model, loading it from `source` when it is not (one load however many wait).
   * @param {string} id
   * @param {Source | undefined} source
   * @returns {Promise<Loaded | undefined>} undefined: not loaded and no source given
   */
  async get(id, source) {
    const loaded = this.#loaded.get(id);
    if (loaded) {
      loaded.lastUsed = performance.now();
      return loaded;
    }
    if (!source) return undefined;
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = this.#load(id, source).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading;
  }

  /** @param {string} id */
  async unload(id) {
    const loaded = this.#loaded.get(id);
    if (!loaded) return false;
    this.#loaded.delete(id);
    this.#used -= loaded.bytes;
    await loaded.session.release();
    return true;
  }

  /** Frees least recently used idle models until `bytes` more fit. @param {number} bytes */
  async #makeRoom(bytes) {
    const idle = [...this.#loaded.entries()]
      .filter(([, m]) => m.runs === 0)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [id] of idle) {
      if (this.#used + bytes <= this.options.maxBytes) return;
      await this.unload(id);
      this.stats.evictions += 1;
      this.options.log('model evicted', { id });
    }
  }

  /** @param {string} id @param {Source} source */
  async #load(id, source) {
    const started = performance.now();
    const dir = await mkdtemp(join(tmpdir(), 'modelflare-runner-'));
    try {
      const path = join(dir, 'model.onnx');
      await this.#fetchFile(source, path);
      await this.#makeRoom(source.size);
      /** @type {import('onnxruntime-node').InferenceSession} */
      let session;
      try {
        session = await ort.InferenceSession.create(path, {
          intraOpNumThreads: this.options.threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
          // Idle intra-op threads sleep rather than spin: concurrent requests and the HTTP
          // server share the same CPUs (spinning doubled a small CNN's run time on 2 busy cores).
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        });
      } catch (err) {
        this.stats.loadFailures += 1;
        throw new BadRequest(`onnxruntime cannot load the model: ${err instanceof Error ? err.message : String(err)}`);
      }
      let signature;
      try {
        signature = { inputs: specs(session.inputMetadata, 'input'), outputs: specs(session.outputMetadata, 'output') };
      } catch (err) {
        await session.release();
        throw err;
      }
      const loaded = { session, signature, bytes: source.size, runs: 0, lastUsed: performance.now() };
      this.#loaded.set(id, loaded);
      this.#used += source.size;
      const seconds = (performance.now() - started) / 1000;
      this.stats.loads += 1;
      this.stats.loadSeconds += seconds;
      this.options.log('model loaded', { id, bytes: source.size, seconds: Number(seconds.toFixed(3)) });
      return loaded;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Streams the file to `path`, checking its size and sha256. @param {Source} source @param {string} path */
  async #fetchFile(source, path) {
    const url = `${this.options.sourceUrl}/internal/runner/files?key=${encodeURIComponent(source.key)}`;
    let res;
    try {
      res = await fetch(url, { headers: { Authorization: `Bearer ${this.options.token}` } });
    } catch (err) {
      throw new SourceError(
        `the model file source ${this.options.sourceUrl} cannot be reached: ${err instanceof Error ? err.message : err}`,
      );
    }
    if (!res.ok || !res.body) {
      throw new SourceError(
        `the model file source answered ${res.status} for ${source.key}: ${(await res.text()).slice(0, 300)}`,
      );
    }
    const hash = createHash('sha256');
    let size = 0;
    const counted = Readable.fromWeb(/** @type {any} */ (res.body)).on('data', (chunk) => {
      hash.update(chunk);
      size += chunk.length;
    });
    await pipeline(counted, createWriteStream(path));
    const sha256 = hash.digest('hex');
    if (size !== source.size || sha256 !== source.sha256) {
      throw new SourceError(
        `the model file ${source.key} arrived as ${size} bytes with sha256 ${sha256}; expected ${source.size} bytes, ${source.sha256}`,
      );
    }
  }
}
