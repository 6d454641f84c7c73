import type { z } from '@hono/zod-openapi';
import type { Rewrite } from '../../core/signature';
import type { Model, ModelVersion } from '../../registry/types';
import { iso } from '../schemas/common';
import type { Model as ModelSchema, ModelVersion as VersionSchema } from '../schemas/registry';

export function presentModel(m: Model): z.infer<typeof ModelSchema> {
  return {
    name: m.name,
    description: m.description,
    task: m.task,
    tags: m.tags,
    feature_names: m.featureNames,
    class_labels: m.classLabels,
    cache: {
      enabled: m.cacheEnabled,
      ttl_seconds: m.cacheTtlSeconds,
      shared: m.cacheShared,
      shared_timeout_ms: m.cacheSharedTimeoutMs,
    },
    monitoring: {
      log_sample_rate: m.logSampleRate,
      drift: { psi_threshold: m.driftPsiThreshold, ks_threshold: m.driftKsThreshold, window_hours: m.driftWindowHours },
    },
    latest_version: m.latestVersion,
    aliases: m.aliases,
    created_by: m.createdBy,
    created_at: iso(m.createdAt)!,
    updated_at: iso(m.updatedAt)!,
    archived_at: iso(m.archivedAt),
  };
}

function presentRewrite(r: Rewrite) {
  switch (r.kind) {
    case 'zipmap':
      return { kind: r.kind, node: r.node, output: r.output, class_labels: r.labels };
    case 'dict_vectorizer':
      return { kind: r.kind, node: r.node, input: r.input, vocabulary: r.vocabulary };
    case 'batchwise_rnn':
      return { kind: r.kind, node: r.node, op: r.op };
  }
}

export function presentVersion(v: ModelVersion): z.infer<typeof VersionSchema> {
  return {
    model: v.modelName,
    version: v.version,
    sha256: v.sha256,
    size_bytes: v.sizeBytes,
    signature: {
      inputs: v.signature.inputs,
      outputs: v.signature.outputs,
      unserved_outputs: v.signature.unservedOutputs,
    },
    onnx: {
      ir_version: v.onnx.irVersion,
      producer_name: v.onnx.producerName,
      producer_version: v.onnx.producerVersion,
      opsets: v.onnx.opsets,
    },
    description: v.description,
    tags: v.tags,
    metrics: v.metrics,
    feature_names: v.featureNames,
    class_labels: v.classLabels,
    aliases: v.aliases,
    artifact_url: v.backend === 'remote' ? null : `/v1/models/${v.modelName}/versions/${v.version}/artifact`,
    serving: v.serving && {
      sha256: v.serving.sha256,
      size_bytes: v.serving.sizeBytes,
      rewrites: v.serving.rewrites.map(presentRewrite),
    },
    backend: v.backend,
    remote: v.remote && {
      url: v.remote.url,
      model: v.remote.model,
      version: v.remote.version,
      credential: v.remote.credential !== null,
      credential_header: v.remote.credentialHeader,
      timeout_ms: v.remote.timeoutMs,
      binary_data: v.remote.binary,
    },
    created_by: v.createdBy,
    created_at: iso(v.createdAt)!,
    archived_at: iso(v.archivedAt),
  };
}
