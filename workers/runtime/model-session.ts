import type { OnnxHeader, Signature } from '../core/signature';
import type { Tensor } from '../core/tensor';

/** A loaded model, whatever runtime runs it. The inference core only sees this interface. */
export interface ModelSession {
  readonly signature: Signature;
  /** Runs the model; `outputs` names the outputs to compute, in the order they are wanted. */
  run(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<Record<string, Tensor>>;
  /** Frees the runtime's memory for this model; the session must not be used afterwards. */
  release(): Promise<void>;
}

export interface LoadedModel {
  session: ModelSession;
  signature: Signature;
  header: OnnxHeader;
}
