import type { Datatype } from './tensor';

/** One input or output of a model: -1 marks a dynamic dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Outputs onnxruntime-web cannot read (sequences, maps such as ZipMap): never returned. */
  unservedOutputs: { name: string; reason: string }[];
}

/** What the top level of the ONNX file says about itself, where it says it. */
export interface OnnxHeader {
  irVersion: number | null;
  producerName: string | null;
  producerVersion: string | null;
  opsets: { domain: string; version: number }[];
}

/**
 * A change the import made to a graph so that onnxruntime-web can serve it (see
 * runtime/import). Recorded with the version; the uploaded file itself is never changed.
 */
export type Rewrite =
  /** A ZipMap's sequence of maps became an FP32 tensor [batch, classes] in `labels` order. */
  | { kind: 'zipmap'; node: string; output: string; labels: string[] }
  /** A map input read by a DictVectorizer became a tensor [batch, vocabulary]. */
  | { kind: 'dict_vectorizer'; node: string; input: string; vocabulary: string[] }
  /** A batchwise (layout = 1) LSTM, GRU or RNN now runs sequence-first between Transposes. */
  | { kind: 'batchwise_rnn'; node: string; op: string };

/** The graph a version is served from when the import rewrote it, stored beside the original. */
export interface ServingGraph {
  key: string;
  sha256: string;
  sizeBytes: number;
  rewrites: Rewrite[];
}

/**
 * What runs a version: onnxruntime-web inside the isolate, the platform's native runner
 * (onnxruntime-node on Cloudflare Containers), or an Open Inference Protocol server the team
 * runs elsewhere.
 */
export type BackendKind = 'isolate' | 'runner' | 'remote';

/** A remote Open Inference Protocol V2 server and the model on it that serves a version. */
export interface RemoteBackend {
  /** Base URL: `/v2/...` paths are appended to it. */
  url: string;
  model: string;
  /** The remote's version of the model; null for the remote's default. */
  version: string | null;
  /** The platform's credential for the remote, encrypted for its version row (core/secret-box). */
  credential: string | null;
  /** The header the credential goes in; null: `Authorization: Bearer <credential>`. */
  credentialHeader: string | null;
  /** How long a call may take; null: REMOTE_TIMEOUT_MS. */
  timeoutMs: number | null;
  /** The remote lists the binary tensor data extension: tensors travel as bytes, not JSON. */
  binary: boolean;
}
