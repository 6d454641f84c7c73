import { env } from 'cloudflare:test';
import { vi } from 'vitest';
import type { Datatype } from '../../workers/core/tensor';
import { decodeBinary, encodeBinary } from '../../workers/inference/tensor-binary';
import type { ModelSession } from '../../workers/runtime/model-session';
import { loadOnnxModel } from '../../workers/runtime/onnx-session';
import { call, type TestWorker } from '../helpers';

/*
 * Stand-ins, inside workerd, for what the worker calls outside it: `http://remote.test` is a
 * remote Open Inference Protocol server (this platform itself, reached through its own fetch
 * handler, as a team's second modelflare would be), and `http://runner.test` speaks the native
 * runner's protocol (model files fetched from the worker's internal route with the runner
 * token, loaded with onnxruntime, tensors as binary tensor data). Both can be made to fail as
 * real servers do; the real runner process and an independent server are in test/node.
 */

export const RUNNER_URL = 'http://runner.test';
export const REMOTE_URL = 'http://remote.test';
let remotes = 0;
/** A remote of its own (its own circuit): http://remote-N.test, served by the same stand-in. */
export const newRemoteUrl = () => `http://remote-${++remotes}.test`;
const REMOTE = /^http:\/\/remote(-\d+)?\.test\//;
export const RUNNER_TOKEN = 'runner-token-for-the-workerd-tests-0123456789';

export type Fault = 'none' | 'slow' | 'error' | 'malformed' | 'unreachable' | 'refuse-input';

export interface StandIns {
  /** Requests each stand-in received: URL and Authorization header. */
  seen: { url: string; authorization: string | null }[];
  fault: Fault;
}

const json = (status: number, body: unknown) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });

function faulty(fault: Fault, signal: AbortSignal | null | undefined): Promise<Response> | Response | undefined {
  switch (fault) {
    case 'slow':
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted', 'AbortError'))),
      );
    case 'error':
      return json(500, { error: 'the GPU fell off the bus' });
    case 'malformed':
      return json(200, '{"outputs": [');
    case 'unreachable':
      throw new TypeError('Network connection lost.');
    case 'refuse-input':
      return json(400, { error: 'the tensor is not what the model takes' });
    default:
      return undefined;
  }
}

/** The runner's protocol over the platform's own onnxruntime, models loaded through `via`. */
function runnerStandIn(via: TestWorker) {
  const loaded = new Map<string, ModelSession>();
  return async (request: Request): Promise<Response> => {
    if (request.headers.get('authorization') !== `Bearer ${RUNNER_TOKEN}`) return json(401, { error: 'token' });
    const url = new URL(request.url);
    if (url.pathname === '/v2/health/ready') return json(200, { ready: true });
    const match = /^\/v2\/models\/([^/]+)(\/ready|\/infer)?$/.exec(url.pathname);
    if (!match) return json(404, { error: `no route ${url.pathname}` });
    const id = match[1]!;
    let session = loaded.get(id);
    if (!session) {
      const key = request.headers.get('modelflare-model-source');
      if (!key) return json(404, { error: `model '${id}' is not loaded` });
      const file = await via.fetch(
        new Request(`http://modelflare.test/internal/runner/files?key=${encodeURIComponent(key)}`, {
          headers: { authorization: `Bearer ${RUNNER_TOKEN}` },
        }),
      );
      if (!file.ok) return json(502, { error: `file source answered ${file.status}: ${await file.text()}` });
      try {
        session = (await loadOnnxModel(new Uint8Array(await file.arrayBuffer()))).session;
      } catch (err) {
        return json(400, { error: `onnxruntime cannot load the model: ${(err as Error).message}` });
      }
      loaded.set(id, session);
    }
    if (match[2] === undefined) {
      return json(200, { name: id, versions: ['1'], platform: 'onnxruntime_onnx', ...session.signature });
    }
    if (match[2] === '/ready') return json(200, { name: id, ready: true });
    const body = new Uint8Array(await request.arrayBuffer());
    const headerLength = Number(request.headers.get('inference-header-content-length'));
    const head = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength)));
    let at = headerLength;
    const inputs = Object.fromEntries(
      head.inputs.map(
        (i: { name: string; datatype: Datatype; shape: number[]; parameters: { binary_data_size: number } }) => {
          const bytes = body.subarray(at, (at += i.parameters.binary_data_size));
          return [
            i.name,
            { datatype: i.datatype, shape: i.shape, data: decodeBinary(bytes, i.shape, i.datatype, i.name) },
          ];
        },
      ),
    );
    const names: string[] = head.outputs.map((o: { name: string }) => o.name);
    const results = await session.run(inputs, names);
    const sections = names.map((n) => encodeBinary(results[n]!));
    const header = new TextEncoder().encode(
      JSON.stringify({
        model_name: id,
        outputs: names.map((n, i) => ({
          name: n,
          datatype: results[n]!.datatype,
          shape: results[n]!.shape,
          parameters: { binary_data_size: sections[i]!.byteLength },
        })),
      }),
    );
    return new Response(new Blob([header, ...sections]), {
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.byteLength),
      },
    });
  };
}

/** A remote server: this platform's own Open Inference Protocol routes. */
async function remoteStandIn(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'inference-header-content-length', 'authorization']) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return call(request.method, url.pathname, {
    token: null,
    headers,
    body: request.method === 'GET' ? undefined : new Uint8Array(await request.arrayBuffer()),
  });
}

/** Routes the worker's outbound calls to the stand-ins; every other URL is refused. */
export function installStandIns(runnerVia?: TestWorker): StandIns {
  const state: StandIns = { seen: [], fault: 'none' };
  const runner = runnerVia ? runnerStandIn(runnerVia) : undefined;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    state.seen.push({ url: request.url, authorization: request.headers.get('authorization') });
    const failure = faulty(state.fault, init?.signal ?? request.signal);
    if (failure) return failure;
    if (REMOTE.test(request.url)) return remoteStandIn(request);
    if (runner && request.url.startsWith(RUNNER_URL)) return runner(request);
    throw new TypeError(`connection refused: ${request.url}`);
  });
  return state;
}

/** A worker whose RUNNER_URL is the runner stand-in, with its own isolate services. */
export function runnerEnv(extra: Record<string, string> = {}) {
  return { ...env, RUNNER_URL, RUNNER_TOKEN, ...extra };
}
