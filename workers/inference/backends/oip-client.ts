import { DomainError, badGateway, gatewayTimeout, invalidInput, unavailable } from '../../core/errors';
import type { Signature, TensorSpec } from '../../core/signature';
import { isDatatype, type Tensor } from '../../core/tensor';
import { INFERENCE_HEADER, decodeBinary, encodeBinary, frameBinary } from '../tensor-binary';
import { allocate, decodeInto } from '../tensor-decode';
import { encodeElements } from '../tensor-json';
import type { NamedTensors } from '../types';
import type { CircuitBreakers } from './circuit-breaker';

/*
 * The platform as an Open Inference Protocol V2 client: how the native runner and a remote
 * server are called. Every call has a deadline; only idempotent calls (GET) are retried, and
 * only when no answer came; the backend's own failures feed its circuit breaker; each failure
 * becomes a 502, 503 or 504 that names the backend. Nothing of the caller's request but its
 * tensors is sent: the target adds the platform's own credential.
 */

export interface OipTarget {
  /** Names the backend in messages, e.g. "remote backend https://triton.example.com model 'resnet'". */
  name: string;
  /** The circuit this backend's calls share. */
  breakerKey: string;
  /** `/v2/models/{m}` or `/v2/models/{m}/versions/{v}` on the backend. */
  modelPath: string;
  timeoutMs: number;
  /** Send tensors as binary tensor data (the backend lists the extension). */
  binary: boolean;
  /** Sends a request to the backend, with its credential. */
  send(path: string, init: RequestInit): Promise<Response>;
}

export interface OipDeps {
  breakers: CircuitBreakers;
}

/** The most an answer may hold: it is read into the isolate's memory. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
const RETRY_DELAYS_MS = [100, 400];
const decoder = new TextDecoder();

interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a backend said, for an error message: its `error` field, else the start of its text. */
export function answerText(body: Uint8Array): string {
  const text = decoder.decode(body.subarray(0, 2048)).trim();
  try {
    const json = JSON.parse(text) as { error?: unknown };
    if (typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: the text itself
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || '(an empty body)';
}

async function readLimited(res: Response, name: string): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw badGateway(`${name} answered more than ${MAX_ANSWER_BYTES / 2 ** 20} MiB`, {
        code: 'backend_error',
        details: { backend: name },
      });
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/**
 * One call: the circuit first, then the request under its deadline (the answer's body too),
 * retried after a connection failure when `idempotent`. 5xx answers count against the circuit
 * and are raised; other answers go to `read`, and an answer it cannot read (a 502) counts
 * against the circuit too. A refusal of the request (4xx) is an answer: it does not.
 */
export async function exchange<T>(
  deps: OipDeps,
  target: OipTarget,
  path: string,
  init: RequestInit,
  idempotent: boolean,
  read: (answer: Answer) => T,
): Promise<T> {
  deps.breakers.admit(target.breakerKey, target.name);
  const details = { backend: target.name };
  for (let attempt = 0; ; attempt++) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), target.timeoutMs);
    let answer: Answer;
    try {
      const res = await target.send(path, { ...init, signal: controller.signal });
      answer = { status: res.status, headers: res.headers, body: await readLimited(res, target.name) };
    } catch (err) {
      if (err instanceof DomainError) {
        deps.breakers.failed(target.breakerKey, err.message, target.name);
        throw err;
      }
      if (controller.signal.aborted) {
        const reason = `did not answer within ${target.timeoutMs} ms`;
        deps.breakers.failed(target.breakerKey, reason, target.name);
        throw gatewayTimeout(`${target.name} ${reason}`, { code: 'backend_timeout', details });
      }
      if (idempotent && attempt < RETRY_DELAYS_MS.length) {
        await sleep(RETRY_DELAYS_MS[attempt]!);
        continue;
      }
      const reason = `cannot be reached (${err instanceof Error ? err.message : String(err)})`;
      deps.breakers.failed(target.breakerKey, reason, target.name);
      throw unavailable(`${target.name} ${reason}`, { code: 'backend_unavailable', details });
    } finally {
      clearTimeout(timer);
    }
    if (answer.status >= 500) {
      const said = answerText(answer.body);
      deps.breakers.failed(target.breakerKey, `${answer.status}: ${said}`, target.name);
      const message = `${target.name} answered ${answer.status}: ${said}`;
      if (answer.status === 503) throw unavailable(message, { code: 'backend_unavailable', details });
      if (answer.status === 504) throw gatewayTimeout(message, { code: 'backend_timeout', details });
      throw badGateway(message, { code: 'backend_error', details });
    }
    try {
      const result = read(answer);
      deps.breakers.succeeded(target.breakerKey);
      return result;
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'bad_gateway')
        deps.breakers.failed(target.breakerKey, err.message, target.name);
      else deps.breakers.succeeded(target.breakerKey);
      throw err;
    }
  }
}

/** An answer the backend gave that the platform cannot use: 502, naming the backend. */
const unreadable = (target: OipTarget, what: string) =>
  badGateway(`${target.name} ${what}`, { code: 'backend_error', details: { backend: target.name } });

/** A 4xx answer of the backend (a 2xx is returned): what it means for the caller. */
function refusal(target: OipTarget, answer: Answer, doing: string): DomainError {
  const said = answerText(answer.body);
  if (answer.status === 400 || answer.status === 422) {
    // The inputs passed the signature here, yet the backend's model refused them.
    return invalidInput(`${target.name} refused the inputs: ${said}`, {
      code: 'inference_failed',
      details: { backend: target.name, answer: said },
    });
  }
  if (answer.status === 401 || answer.status === 403) {
    return unreadable(target, `refused the platform's credential (${answer.status}: ${said})`);
  }
  return unreadable(target, `answered ${answer.status} to ${doing}: ${said}`);
}

function parseJson(target: OipTarget, bytes: Uint8Array, what: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch {
    throw unreadable(target, `answered ${what} that is not JSON: ${answerText(bytes)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw unreadable(target, `answered ${what} that is not a JSON object`);
  }
  return json as Record<string, unknown>;
}

// ── infer ──

function inferBody(target: OipTarget, inputs: NamedTensors, outputs: readonly string[]) {
  if (!target.binary) {
    const body = JSON.stringify({
      inputs: Object.entries(inputs).map(([name, t]) => ({
        name,
        datatype: t.datatype,
        shape: t.shape,
        data: encodeElements(t),
      })),
      outputs: outputs.map((name) => ({ name })),
    });
    return { body, headers: { 'Content-Type': 'application/json' } as Record<string, string> };
  }
  const sections = Object.values(inputs).map((t) => encodeBinary(t));
  return frameBinary(
    JSON.stringify({
      inputs: Object.entries(inputs).map(([name, t], i) => ({
        name,
        datatype: t.datatype,
        shape: t.shape,
        parameters: { binary_data_size: sections[i]!.byteLength },
      })),
      outputs: outputs.map((name) => ({ name, parameters: { binary_data: true } })),
    }),
    sections,
  );
}

interface AnsweredOutput {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: { binary_data_size?: unknown };
}

const isShape = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);

/** The infer answer's outputs as tensors: JSON data, or binary sections in the order listed. */
function decodeOutputs(target: OipTarget, answer: Answer, wanted: readonly string[]): NamedTensors {
  const declared = answer.headers.get(INFERENCE_HEADER);
  const headerLength = declared === null ? answer.body.byteLength : Number(declared);
  if (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > answer.body.byteLength) {
    throw unreadable(target, `answered ${INFERENCE_HEADER}: ${declared} for a body of ${answer.body.byteLength} bytes`);
  }
  const json = parseJson(target, answer.body.subarray(0, headerLength), 'an inference response');
  if (!Array.isArray(json.outputs))
    throw unreadable(target, "answered an inference response without an 'outputs' array");
  const sections = answer.body.subarray(headerLength);
  let at = 0;
  const found: NamedTensors = {};
  try {
    for (const output of json.outputs as AnsweredOutput[]) {
      const { name, datatype, shape } = output ?? {};
      if (typeof name !== 'string' || typeof datatype !== 'string' || !isDatatype(datatype) || !isShape(shape)) {
        throw invalidInput(`an output with no usable name, datatype or shape: ${JSON.stringify(output).slice(0, 200)}`);
      }
      const where = `output '${name}'`;
      const size = output.parameters?.binary_data_size;
      let data: Tensor['data'];
      if (size !== undefined) {
        if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || at + size > sections.byteLength) {
          throw invalidInput(`${where} declares binary_data_size ${String(size)} past the end of the body`);
        }
        data = decodeBinary(sections.subarray(at, at + size), shape, datatype, where);
        at += size;
      } else {
        const count = shape.reduce((a, b) => a * b, 1);
        data = allocate(datatype, count);
        decodeInto(data, 0, output.data, shape, datatype, where, count);
      }
      found[name] = { datatype, shape, data };
    }
  } catch (err) {
    if (err instanceof DomainError)
      throw unreadable(target, `answered an output the platform cannot read: ${err.message}`);
    throw err;
  }
  const result: NamedTensors = {};
  for (const name of wanted) {
    const tensor = found[name];
    if (!tensor) throw unreadable(target, `answered without the output '${name}'`);
    result[name] = tensor;
  }
  return result;
}

/** Runs the model on the backend: validated inputs in, the named outputs back as tensors. */
export async function oipInfer(
  deps: OipDeps,
  target: OipTarget,
  inputs: NamedTensors,
  outputs: readonly string[],
): Promise<NamedTensors> {
  const { body, headers } = inferBody(target, inputs, outputs);
  // Inference is a POST: never sent twice.
  return exchange(deps, target, `${target.modelPath}/infer`, { method: 'POST', body, headers }, false, (answer) => {
    if (answer.status !== 200) throw refusal(target, answer, 'the inference request');
    return decodeOutputs(target, answer, outputs);
  });
}

// ── metadata, readiness ──

function specsOf(target: OipTarget, list: unknown, role: 'inputs' | 'outputs'): TensorSpec[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw unreadable(target, `described the model without ${role}`);
  }
  return list.map((item: { name?: unknown; datatype?: unknown; shape?: unknown }) => {
    const { name, datatype, shape } = item ?? {};
    if (typeof name !== 'string' || name === '')
      throw unreadable(target, `described one of its ${role} without a name`);
    if (typeof datatype !== 'string' || !isDatatype(datatype)) {
      throw unreadable(
        target,
        `described ${role.slice(0, -1)} '${name}' with datatype ${JSON.stringify(datatype)}, which is not an Open Inference Protocol datatype`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= -1)) {
      throw unreadable(target, `described ${role.slice(0, -1)} '${name}' with shape ${JSON.stringify(shape)}`);
    }
    return { name, datatype, shape: shape as number[] };
  });
}

/** The model's signature from the backend's model metadata. */
export async function oipSignature(deps: OipDeps, target: OipTarget): Promise<Signature> {
  return exchange(deps, target, target.modelPath, { method: 'GET' }, true, (answer) => {
    if (answer.status !== 200) throw refusal(target, answer, 'the model metadata request');
    const json = parseJson(target, answer.body, 'model metadata');
    return {
      inputs: specsOf(target, json.inputs, 'inputs'),
      outputs: specsOf(target, json.outputs, 'outputs'),
      unservedOutputs: [],
    };
  });
}

/** Whether the backend lists the binary tensor data extension in its server metadata. */
export async function oipSpeaksBinary(deps: OipDeps, target: OipTarget): Promise<boolean> {
  return exchange(deps, target, '/v2', { method: 'GET' }, true, (answer) => {
    if (answer.status !== 200) return false;
    try {
      const json = JSON.parse(decoder.decode(answer.body)) as { extensions?: unknown };
      return Array.isArray(json.extensions) && json.extensions.includes('binary_tensor_data');
    } catch {
      return false;
    }
  });
}

/** Resolves once the backend says the model is ready; a 503 naming the backend otherwise. */
export async function oipReady(deps: OipDeps, target: OipTarget): Promise<void> {
  await exchange(deps, target, `${target.modelPath}/ready`, { method: 'GET' }, true, (answer) => {
    if (answer.status !== 200) {
      throw unavailable(`${target.name} says the model is not ready (${answer.status}: ${answerText(answer.body)})`, {
        code: 'backend_unavailable',
        details: { backend: target.name },
      });
    }
  });
}
