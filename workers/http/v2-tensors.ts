import { invalidInput } from '../core/errors';
import type { Tensor } from '../core/tensor';
import { classify } from '../inference/classification';
import type { Prediction } from '../inference/data-plane';
import { INFERENCE_HEADER, encodeBinary, frameBinary } from '../inference/tensor-binary';
import { tensorsFromJson } from '../inference/tensor-decode';
import { encodeElements } from '../inference/tensor-json';
import type { RequestedOutput, RequestTensor, ResponseTensor } from '../inference/types';
import { selectOutputs } from '../inference/validate-inputs';

/*
 * The V2 infer adapter's two extensions, at the edge: binary tensor data (inputs' bytes after
 * the JSON header; outputs written as bytes when the request asks) and classification (an
 * output's top K classes as strings). The data plane sees the same tensors either way and the
 * prediction cache holds one answer, written here in the format each request asks for.
 */

type Parameters = Record<string, unknown> | undefined;

interface InferBody {
  id?: string;
  parameters?: Parameters;
  inputs: (RequestTensor & { parameters?: Parameters })[];
  outputs?: { name: string; parameters?: Parameters }[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function flag(parameters: Parameters, key: string, where: string): boolean | undefined {
  const value = parameters?.[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalidInput(`${where}: parameters.${key} must be true or false, not ${JSON.stringify(value)}`);
}

function count(parameters: Parameters, key: string, where: string, what: string): number | undefined {
  const value = parameters?.[key];
  if (value === undefined || isCount(value)) return value;
  throw invalidInput(`${where}: parameters.${key} must be ${what}, not ${JSON.stringify(value)}`);
}

function refuseSharedMemory(parameters: Parameters, where: string): void {
  if (parameters && 'shared_memory_region' in parameters) {
    throw invalidInput(
      `${where}: shared memory is not served (the platform does not run beside the client); send the data in the request`,
    );
  }
}

/**
 * The inputs with their binary tensor data: each input with `binary_data_size` takes that many
 * bytes of `tensorData`, in the order the inputs are listed, and together they take all of it.
 */
export function withTensorData(inputs: InferBody['inputs'], tensorData: Uint8Array | undefined): RequestTensor[] {
  let at = 0;
  const tensors = inputs.map((input) => {
    const where = `input '${input.name}'`;
    refuseSharedMemory(input.parameters, where);
    const size = count(input.parameters, 'binary_data_size', where, 'a whole number of bytes');
    if (size === undefined) {
      if (input.data === undefined) {
        throw invalidInput(
          `${where} has no data: give 'data', or parameters.binary_data_size with its bytes after the JSON header`,
        );
      }
      return input;
    }
    if (input.data !== undefined) {
      throw invalidInput(`${where} has both 'data' and parameters.binary_data_size; give one of them`);
    }
    if (!tensorData) {
      throw invalidInput(
        `${where} has parameters.binary_data_size but the request has no ${INFERENCE_HEADER} header saying where the JSON header ends`,
      );
    }
    if (at + size > tensorData.byteLength) {
      throw invalidInput(
        `${where}: its ${size} bytes of binary data (from byte ${at} after the JSON header) run past the end of the body; ${tensorData.byteLength} bytes follow the JSON header`,
      );
    }
    const binary = tensorData.subarray(at, at + size);
    at += size;
    return { ...input, binary };
  });
  if (tensorData && at !== tensorData.byteLength) {
    throw invalidInput(
      `${tensorData.byteLength} bytes follow the JSON header but the inputs' binary_data_size add up to ${at}`,
    );
  }
  return tensors;
}

/** How each output is to be written: which are binary, which are asked for as classes. */
export interface OutputChoices {
  requested: RequestedOutput[] | undefined;
  binary: (name: string) => boolean;
  /** Whether any output is written otherwise than as plain JSON. */
  special: boolean;
}

export function outputChoices(body: InferBody): OutputChoices {
  const all = flag(body.parameters, 'binary_data_output', 'request') ?? false;
  if (!body.outputs) return { requested: undefined, binary: () => all, special: all };
  const binary = new Map<string, boolean>();
  let special = false;
  const requested = body.outputs.map(({ name, parameters }) => {
    const where = `output '${name}'`;
    refuseSharedMemory(parameters, where);
    const asBinary = flag(parameters, 'binary_data', where) ?? all;
    const classification = count(parameters, 'classification', where, 'a whole number of classes') || undefined;
    binary.set(name, asBinary);
    special ||= asBinary || classification !== undefined;
    return classification === undefined ? { name } : { name, classification };
  });
  return { requested, binary: (name) => binary.get(name) ?? all, special };
}

/**
 * The answer when an output is binary or classified: the JSON header, then each binary output's
 * bytes in the order of the outputs, with `Inference-Header-Content-Length` saying where the
 * header ends; plain JSON when no output is binary.
 */
export function encodeAnswer(
  prediction: Prediction,
  head: { model_name: string; model_version: string; id?: string },
  choices: OutputChoices,
): { body: Uint8Array | string; headers: Record<string, string> } {
  const { served } = prediction;
  const names = selectOutputs(served.signature, choices.requested);
  const tensors = prediction.outputs ?? tensorsFromJson(JSON.parse(prediction.outputsJson) as ResponseTensor[]);
  const classes = new Map(choices.requested?.map((o) => [o.name, o.classification]));
  const sections: Uint8Array[] = [];
  const outputs = names.map((name) => {
    let tensor: Tensor = tensors[name]!;
    const k = classes.get(name);
    if (k) {
      const spec = served.signature.outputs.find((o) => o.name === name)!;
      tensor = classify(name, tensor, spec, k, served.classLabels);
    }
    const described = { name, datatype: tensor.datatype, shape: tensor.shape };
    if (!choices.binary(name)) return { ...described, data: encodeElements(tensor) };
    const bytes = encodeBinary(tensor);
    sections.push(bytes);
    return { ...described, parameters: { binary_data_size: bytes.byteLength } };
  });
  const json = JSON.stringify({ ...head, outputs });
  if (sections.length === 0) return { body: json, headers: { 'Content-Type': 'application/json' } };
  return frameBinary(json, sections);
}
