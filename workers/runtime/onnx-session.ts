import { DomainError, invalidInput, invalidModel } from '../core/errors';
import type { OnnxHeader, Signature, TensorSpec } from '../core/signature';
import { DATATYPE_INFO, datatypeFromOrt, type Tensor, type TensorData } from '../core/tensor';
import type { LoadedModel, ModelSession } from './model-session';
import { readOnnxHeader } from './onnx-header';
import { isOutOfMemory, ortHeapLimitBytes, ortRuntime, type Ort } from './ort-env';

type OrtSession = Awaited<ReturnType<Ort['InferenceSession']['create']>>;
type OrtValueMetadata = OrtSession['inputMetadata'][number];

/** ORT reports an unnamed dynamic dimension as 2^32 - 1. */
const UNNAMED_DYNAMIC_DIM = 4294967295;

/*
 * onnxruntime prefixes a reason with where it was raised: a source file and line, then the
 * function, as a bare name or a C++ signature with return type, templates and arguments.
 */
const CODE_LOCATION = String.raw`(?:\S*/)?[\w.-]+\.(?:h|cc|cpp):\d+\s+`;
const SIGNATURE = String.raw`(?:[\w:<>,*&~]+\s+){0,3}?[\w:<>,*&~]*::[\w~<>,]+\([^()]*\)(?:\s*const)?(?:\s*\[[^\]]*\])?\s*`;
const LOCATED_FUNCTION = new RegExp(`${CODE_LOCATION}(?:${SIGNATURE}|\\w+\\s+)`, 'g');
const STRAY_SIGNATURE = new RegExp(SIGNATURE, 'g');
const STATUS_PREFIX = /(?:\[ONNXRuntimeError\]\s*)?:\s*\d+\s*:\s*[A-Z_]+\s*:\s*/g;

/** Strips onnxruntime's build paths and C++ frames so the user reads only the reason. */
export function cleanOrtMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  return (
    raw
      .replace(/^.*?ERROR_MESSAGE:\s*/s, '')
      .replace(LOCATED_FUNCTION, '')
      .replace(STRAY_SIGNATURE, '')
      .replace(STATUS_PREFIX, '')
      .trim()
      // Names read from a corrupt file can hold control bytes; they would garble logs and terminals.
      .replace(/\p{Cc}+/gu, '\ufffd')
  );
}

const heapLimit = () =>
  `the ${Math.round(ortHeapLimitBytes() / 2 ** 20)} MiB onnxruntime may use here (ORT_HEAP_MAX_BYTES)`;

function specFrom(meta: OrtValueMetadata, role: 'input' | 'output'): TensorSpec | { name: string; reason: string } {
  if (!meta.isTensor) {
    return { name: meta.name, reason: `${role} '${meta.name}' is a sequence or map, not a tensor` };
  }
  const datatype = datatypeFromOrt(meta.type);
  if (!datatype) {
    return { name: meta.name, reason: `${role} '${meta.name}' has element type ${meta.type}, which cannot be served` };
  }
  const shape = meta.shape.map((d) => (typeof d === 'number' && d !== UNNAMED_DYNAMIC_DIM ? d : -1));
  return { name: meta.name, datatype, shape };
}

function signatureOf(session: OrtSession): Signature {
  const inputs: TensorSpec[] = [];
  for (const meta of session.inputMetadata) {
    const spec = specFrom(meta, 'input');
    if (!('datatype' in spec)) {
      throw invalidModel(`this model cannot be served: ${spec.reason}; every input must be a tensor`);
    }
    inputs.push(spec);
  }
  const outputs: TensorSpec[] = [];
  const unservedOutputs: Signature['unservedOutputs'] = [];
  for (const meta of session.outputMetadata) {
    const spec = specFrom(meta, 'output');
    if ('datatype' in spec) outputs.push(spec);
    else unservedOutputs.push(spec);
  }
  if (outputs.length === 0) {
    throw invalidModel('this model cannot be served: none of its outputs is a tensor onnxruntime-web can read');
  }
  return { inputs, outputs, unservedOutputs };
}

class OnnxSession implements ModelSession {
  constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
    readonly signature: Signature,
  ) {}

  async run(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<Record<string, Tensor>> {
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const [name, tensor] of Object.entries(inputs)) {
      const type = DATATYPE_INFO[tensor.datatype].ort as 'float32';
      feeds[name] = new this.ort.Tensor(type, tensor.data as Float32Array, tensor.shape);
    }
    let results: Awaited<ReturnType<OrtSession['run']>>;
    try {
      results = await this.session.run(feeds, outputs as string[]);
    } catch (err) {
      // A trap inside the WASM module is a fault of ours or of the runtime; anything ORT reports
      // itself (an index out of range, shapes that do not broadcast) comes from the input.
      if (err instanceof WebAssembly.RuntimeError) throw err;
      if (isOutOfMemory(err)) {
        throw invalidInput(`inference failed: running these inputs needs more memory than ${heapLimit()}`, {
          code: 'inference_failed',
        });
      }
      throw invalidInput(`inference failed: ${cleanOrtMessage(err)}`, { code: 'inference_failed' });
    }
    const answer: Record<string, Tensor> = {};
    for (const name of outputs) {
      const value = results[name]!;
      const datatype = datatypeFromOrt(value.type);
      if (!datatype) throw new Error(`onnxruntime returned output '${name}' of unexpected type ${value.type}`);
      answer[name] = { datatype, shape: [...value.dims], data: value.data as TensorData };
    }
    return answer;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

let relieveMemory: () => boolean = () => false;

/**
 * Registers what frees heap when a load runs out of it (the session cache evicting); it says
 * whether it freed anything worth a second attempt.
 */
export function onOutOfMemory(relieve: () => boolean): void {
  relieveMemory = relieve;
}

/** Reads the file's header and refuses a graph over `maxNodes` before onnxruntime sees it. */
export function checkModelFile(bytes: Uint8Array, maxNodes = Infinity): OnnxHeader {
  const { nodes, ...header } = readOnnxHeader(bytes);
  if (nodes > maxNodes) {
    throw invalidModel(`the graph has ${nodes} nodes, over the limit of ${maxNodes} (MAX_MODEL_NODES)`);
  }
  return header;
}

/**
 * Turns model bytes into a runnable session and its signature, or an invalid_model error.
 * `maxNodes` refuses a graph before onnxruntime spends CPU on it: session creation takes time in
 * proportion to the nodes (about 1.3 s for 5,000), and a file of tiny nodes could outlast the
 * request's CPU limit. Uploads pass it; a stored model has passed it already.
 */
export async function loadOnnxModel(bytes: Uint8Array, maxNodes = Infinity): Promise<LoadedModel> {
  const header = checkModelFile(bytes, maxNodes);
  const ort = await ortRuntime();
  // Severity 3 (error): ORT's C++ warnings would otherwise reach the worker's logs.
  const create = () => ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  let session: OrtSession;
  try {
    try {
      session = await create();
    } catch (err) {
      // The heap may be full of other cached models rather than too small for this one.
      if (!isOutOfMemory(err) || !relieveMemory()) throw err;
      session = await create();
    }
  } catch (err) {
    if (isOutOfMemory(err)) {
      throw invalidModel(`onnxruntime-web cannot load this model: it needs more memory than ${heapLimit()}`);
    }
    throw invalidModel(`onnxruntime-web cannot load this model: ${cleanOrtMessage(err)}`);
  }
  try {
    const signature = signatureOf(session);
    return { session: new OnnxSession(ort, session, signature), signature, header };
  } catch (err) {
    await session.release();
    if (err instanceof DomainError) throw err;
    throw invalidModel(`onnxruntime-web cannot describe this model: ${cleanOrtMessage(err)}`);
  }
}
