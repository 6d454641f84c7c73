/*
 * A TypeScript client of modelflare: plain fetch, typed with the types generated from the
 * OpenAPI document (scripts/api/schema.d.ts). Copy both files into your project, or generate
 * your own: `npx openapi-typescript https://<your-server>/openapi.json -o schema.d.ts`.
 *
 * Run it against a server (the demo model `iris` of `npm start`):
 *   MODELFLARE_URL=http://127.0.0.1:8787 MODELFLARE_TOKEN=<key> npx tsx scripts/examples/client.ts
 * (Node 22.18 or newer runs it directly: node scripts/examples/client.ts)
 */
import type { components, paths } from '../api/schema';

type Schemas = components['schemas'];
/** A route's JSON body, read from `paths` the same way for any route. */
type JsonBody<P extends keyof paths, M extends 'post' | 'put' | 'patch'> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type ResultLine = { index: number; prediction?: unknown; error?: string; input?: unknown };

/** An error answer: the /v1 envelope `{"error": {code, message, request_id}}` or V2's `{"error": "…"}`. */
export class ModelflareError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly requestId: string | undefined;

  constructor(status: number, body: unknown) {
    const error = (body as { error?: unknown } | null)?.error;
    const detail = typeof error === 'object' && error !== null ? (error as Schemas['Error']['error']) : undefined;
    super(detail?.message ?? (typeof error === 'string' ? error : `HTTP ${status}`));
    this.status = status;
    this.code = detail?.code;
    this.requestId = detail?.request_id;
  }
}

export class Modelflare {
  readonly #url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.#url = url.replace(/\/+$/, '');
    this.#token = token;
  }

  async #call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const res = await fetch(this.#url + path, {
      method,
      headers: { authorization: `Bearer ${this.#token}`, 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
    if (!res.ok) throw new ModelflareError(res.status, parsed);
    return parsed as T;
  }

  /** The instances API: one JSON record per row. */
  predict(model: string, instances: unknown[], version?: string): Promise<Schemas['PredictResponse']> {
    const at = version === undefined ? '' : `/versions/${encodeURIComponent(version)}`;
    return this.#call('POST', `/v1/models/${encodeURIComponent(model)}${at}/predict`, { instances });
  }

  /** The Open Inference Protocol (V2). */
  infer(model: string, request: Schemas['InferRequest']): Promise<Schemas['InferResponse']> {
    return this.#call('POST', `/v2/models/${encodeURIComponent(model)}/infer`, request);
  }

  /** Stores JSON Lines (one record per line) for a batch job. */
  upload(jsonl: string, filename = 'rows.jsonl'): Promise<Schemas['Upload']> {
    return this.#call('POST', `/v1/uploads?filename=${encodeURIComponent(filename)}`, jsonl, 'application/x-ndjson');
  }

  submitJob(job: JsonBody<'/v1/jobs', 'post'>): Promise<Schemas['SubmittedJob']> {
    return this.#call('POST', '/v1/jobs', job);
  }

  job(id: string): Promise<Schemas['Job']> {
    return this.#call('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  }

  /** Polls until the job has ended (whatever its outcome). */
  async waitForJob(id: string, { intervalMs = 1000, timeoutMs = 600_000 } = {}): Promise<Schemas['Job']> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.job(id);
      if (['succeeded', 'partially_failed', 'failed', 'cancelled'].includes(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /** An ended job's results, one line per input row, in input order. */
  async results(id: string): Promise<ResultLine[]> {
    const text = await this.#call<string>('GET', `/v1/jobs/${encodeURIComponent(id)}/results`);
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ResultLine);
  }
}

/** Scores two flowers in real time, then three in a batch job. */
export async function main(url: string, token: string, model = 'iris'): Promise<void> {
  const mf = new Modelflare(url, token);
  const flower = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

  const predicted = await mf.predict(model, [flower, [6.7, 3.0, 5.2, 2.3]]);
  console.log(`${predicted.model} version ${predicted.model_version}:`, JSON.stringify(predicted.predictions));

  const inferred = await mf.infer(model, {
    inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.9, 3.0, 4.2, 1.5] }],
  });
  console.log('V2 outputs:', JSON.stringify(inferred.outputs));

  const rows = [flower, [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]];
  const upload = await mf.upload(rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  const submitted = await mf.submitJob({ model, input: { upload_id: upload.id } });
  const job = await mf.waitForJob(submitted.id, { intervalMs: 250 });
  console.log(`job ${job.id} ${job.status}: ${job.rows.done} rows scored, ${job.rows.failed} failed`);
  for (const line of await mf.results(job.id)) console.log(JSON.stringify(line));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.env.MODELFLARE_URL ?? 'http://127.0.0.1:8787', process.env.MODELFLARE_TOKEN ?? '').catch(
    (err: unknown) => {
      console.error(err instanceof ModelflareError ? `HTTP ${err.status} ${err.code ?? ''}: ${err.message}` : err);
      process.exit(1);
    },
  );
}
