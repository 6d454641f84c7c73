import { DomainError, invalidModel } from '../../core/errors';
import type { Rewrite } from '../../core/signature';
import type { LoadedModel } from '../model-session';
import { checkModelFile, loadOnnxModel } from '../onnx-session';
import { rewriteBatchwiseRnns } from './batchwise-rnn';
import { rewriteDictVectorizers } from './dict-vectorizer';
import { decodeModel, encodeModel, Names, type ModelProto } from './onnx-graph';
import { rewriteZipMaps } from './zipmap';

/*
 * Import, then serve. A model onnxruntime-web serves as it is is taken as it is; one it cannot
 * load, feed or read (a batchwise recurrent layer, a map input, ZipMap outputs) is parsed and
 * rewritten into an equivalent graph that it can, which is served in its place while the
 * uploaded file stays the version's artifact. The graph is read only when the file as it is
 * falls short, so the common upload pays nothing for this.
 */

export interface ImportedModel {
  /** The session the version is served from: the original's, or the serving graph's. */
  loaded: LoadedModel;
  /** The rewritten graph and what was done to it; null when the file is served as it is. */
  serving: { bytes: Uint8Array; rewrites: Rewrite[] } | null;
}

const isRefusal = (err: unknown): err is DomainError => err instanceof DomainError && err.kind === 'invalid_model';

function rewrite(model: ModelProto): Rewrite[] {
  if (!model.graph) return [];
  const names = new Names(model.graph);
  return [
    ...rewriteDictVectorizers(model, names),
    ...rewriteBatchwiseRnns(model, names),
    ...rewriteZipMaps(model, names),
  ];
}

const describe = (rewrites: Rewrite[]) =>
  rewrites
    .map((r) =>
      r.kind === 'zipmap'
        ? `ZipMap '${r.node}' read as a tensor`
        : r.kind === 'dict_vectorizer'
          ? `map input '${r.input}' made a tensor`
          : `${r.op} '${r.node}' made sequence-first`,
    )
    .join(', ');

export async function importModel(bytes: Uint8Array, maxNodes: number): Promise<ImportedModel> {
  const header = checkModelFile(bytes, maxNodes);
  let loaded: LoadedModel | undefined;
  let refusal: DomainError | undefined;
  try {
    loaded = await loadOnnxModel(bytes);
  } catch (err) {
    if (!isRefusal(err)) throw err;
    refusal = err;
  }
  if (loaded && loaded.signature.unservedOutputs.length === 0) return { loaded, serving: null };
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    // onnxruntime read the file: a parser that cannot is no reason to refuse it.
    if (refusal) throw refusal;
    if (!isRefusal(err)) throw err;
    return { loaded: loaded!, serving: null };
  }
  let rewrites: Rewrite[];
  try {
    rewrites = rewrite(model);
  } catch (err) {
    // A graph the rewrites cannot serve: their reason names the node.
    await loaded?.session.release();
    throw err;
  }
  if (rewrites.length === 0) {
    if (refusal) throw refusal;
    return { loaded: loaded!, serving: null };
  }
  await loaded?.session.release();
  const servingBytes = encodeModel(model);
  try {
    const served = await loadOnnxModel(servingBytes);
    // The version describes the uploaded file: its producer and opsets, not the serving graph's.
    return { loaded: { ...served, header }, serving: { bytes: servingBytes, rewrites } };
  } catch (err) {
    if (!isRefusal(err)) throw err;
    throw invalidModel(`${err.message} (after the import's rewrites: ${describe(rewrites)})`);
  }
}
