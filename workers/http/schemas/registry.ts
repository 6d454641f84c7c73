import { z } from '@hono/zod-openapi';
import { DATATYPES } from '../../core/tensor';
import { keptRecord, ModelName, TagMap, Timestamp } from './common';
import * as ex from './examples';

const Task = z.enum(['classification', 'regression', 'other']).openapi({ example: 'classification' });
const FeatureNames = z
  .array(z.string().min(1).max(128))
  .max(4096)
  .nullable()
  .openapi({ example: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] });
const ClassLabels = z
  .array(z.string().min(1).max(128))
  .max(4096)
  .nullable()
  .openapi({ example: ['setosa', 'versicolor', 'virginica'] });
const Metrics = keptRecord(
  z
    .record(z.string().min(1).max(64), z.number())
    .refine((m) => Object.keys(m).length <= 100, { error: 'at most 100 metrics' }),
).openapi({ example: { accuracy: 0.973, f1: 0.968 } });

export const CacheSettings = z
  .object({
    enabled: z.boolean().openapi({
      description: 'Whether predictions are cached: in the isolate, and in the location’s Cache API',
    }),
    ttl_seconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 86400)
      .openapi({ description: 'Time a cached prediction lives (KV allows no less than 60 s)', example: 300 }),
    shared: z.boolean().openapi({
      description:
        'Also keep predictions in KV, shared by every location: worth it for models whose compute costs more than a KV read (one may cross a continent)',
    }),
    shared_timeout_ms: z.number().int().min(1).max(5000).openapi({
      description:
        'How long a prediction waits for a KV read before the model answers instead: set it near the model’s own compute time. A model not loaded in the isolate yet waits up to CACHE_READ_TIMEOUT_MS.',
      example: 25,
    }),
  })
  .openapi('CacheSettings', { example: ex.CACHE });

export const MonitoringSettings = z
  .object({
    log_sample_rate: z.number().min(0).max(1).openapi({
      description: 'Share of predictions logged with inputs and outputs (needed for feedback)',
      example: 0.1,
    }),
    drift: z
      .object({
        psi_threshold: z
          .number()
          .positive()
          .max(10)
          .openapi({ description: 'A feature drifts when its PSI exceeds this', example: 0.2 }),
        ks_threshold: z
          .number()
          .positive()
          .max(1)
          .openapi({ description: 'A numeric feature drifts when its KS statistic exceeds this', example: 0.1 }),
        window_hours: z
          .number()
          .int()
          .min(1)
          .max(720)
          .openapi({ description: 'Live traffic compared with the baseline', example: 24 }),
      })
      .partial(),
  })
  .openapi('MonitoringSettings');

export const ModelFieldsBody = z
  .object({
    description: z.string().max(4096).optional(),
    task: Task.optional(),
    tags: TagMap.optional(),
    feature_names: FeatureNames.optional(),
    class_labels: ClassLabels.optional(),
    cache: CacheSettings.partial().optional(),
    monitoring: MonitoringSettings.partial().optional(),
  })
  .strict();

export const CreateModelBody = ModelFieldsBody.extend({
  name: ModelName,
})
  .strict()
  .openapi('CreateModel', { example: ex.CREATE_MODEL });

export const UpdateModelBody = ModelFieldsBody.extend({
  archived: z.boolean().optional().openapi({ description: 'false restores an archived model' }),
})
  .strict()
  .openapi('UpdateModel', { example: ex.UPDATE_MODEL });

export const VersionFieldsBody = z
  .object({
    description: z.string().max(4096).optional(),
    tags: TagMap.optional(),
    metrics: Metrics.optional(),
    feature_names: FeatureNames.optional(),
    class_labels: ClassLabels.optional(),
  })
  .strict()
  .openapi('VersionMetadata', {
    example: ex.VERSION_METADATA,
    description: 'Per-version metadata; feature_names and class_labels override the model-level ones',
  });

export const UpdateVersionBody = VersionFieldsBody.extend({
  archived: z.boolean().optional().openapi({ description: 'true archives the version, false restores it' }),
})
  .strict()
  .openapi('UpdateVersion', { example: ex.UPDATE_VERSION });

export const TensorSpec = z
  .object({
    name: z.string(),
    datatype: z.enum(DATATYPES),
    shape: z.array(z.number().int()).openapi({ description: '-1 marks a dynamic dimension', example: [-1, 4] }),
  })
  .openapi('TensorSpec', { example: ex.TENSOR_SPEC });

export const Signature = z
  .object({
    inputs: z.array(TensorSpec),
    outputs: z.array(TensorSpec),
    unserved_outputs: z
      .array(z.object({ name: z.string(), reason: z.string() }))
      .openapi({ description: 'Outputs that are not tensors (e.g. ZipMap); inference never returns them' }),
  })
  .openapi('Signature', { example: ex.SIGNATURE });

export const Model = z
  .object({
    name: z.string(),
    description: z.string(),
    task: Task,
    tags: z.record(z.string(), z.string()),
    feature_names: FeatureNames,
    class_labels: ClassLabels,
    cache: CacheSettings,
    monitoring: MonitoringSettings.extend({
      drift: z.object({ psi_threshold: z.number(), ks_threshold: z.number(), window_hours: z.number().int() }),
    }),
    latest_version: z.number().int().nullable().openapi({ description: 'Highest version that is not archived' }),
    aliases: z.record(z.string(), z.number().int()).openapi({ example: { production: 3, staging: 4 } }),
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    archived_at: Timestamp.nullable(),
  })
  .openapi('Model', { example: ex.MODEL });

const Rewrite = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('zipmap'), node: z.string(), output: z.string(), class_labels: z.array(z.string()) })
    .openapi({
      description: "A ZipMap's sequence of maps became an FP32 tensor [batch, classes], columns in class_labels order",
    }),
  z
    .object({
      kind: z.literal('dict_vectorizer'),
      node: z.string(),
      input: z.string(),
      vocabulary: z.array(z.string()),
    })
    .openapi({ description: 'A map input read by a DictVectorizer became a tensor [batch, vocabulary]' }),
  z
    .object({ kind: z.literal('batchwise_rnn'), node: z.string(), op: z.string() })
    .openapi({ description: 'A batchwise (layout = 1) LSTM, GRU or RNN runs sequence-first between Transposes' }),
]);

export const ServingGraph = z
  .object({
    sha256: z.string(),
    size_bytes: z.number().int(),
    rewrites: z.array(Rewrite),
  })
  .openapi('ServingGraph', {
    description:
      'The graph the version is served from when onnxruntime-web could not serve the uploaded file as it is: the import rewrote it, and stored it beside the file (which stays the artifact, unchanged). Null when the file is served as it is.',
  });

export const Backend = z.enum(['isolate', 'runner', 'remote']).openapi('Backend', {
  description:
    'What runs the version: `isolate` (onnxruntime-web in the worker), `runner` (the native runner, onnxruntime-node on Cloudflare Containers) or `remote` (an Open Inference Protocol server registered by URL)',
});

export const RemoteBackendView = z
  .object({
    url: z.string().openapi({ example: 'https://triton.example.com' }),
    model: z.string().openapi({ example: 'resnet50' }),
    version: z.string().nullable().openapi({ example: '3' }),
    credential: z.boolean().openapi({ description: 'Whether a credential is stored (it is never shown)' }),
    credential_header: z.string().nullable(),
    timeout_ms: z.number().int().nullable(),
    binary_data: z.boolean().openapi({ description: 'The remote lists the binary tensor data extension' }),
  })
  .openapi('RemoteBackend', { description: 'The server and model a remote version calls' });

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const RegisterRemoteBody = VersionFieldsBody.extend({
  remote: z
    .object({
      url: z
        .url({ protocol: /^https?$/ })
        .max(2048)
        .openapi({ example: 'https://triton.example.com' }),
      model: z.string().min(1).max(256).openapi({ example: 'resnet50' }),
      version: z.string().min(1).max(64).optional().openapi({ example: '3' }),
      credential: z
        .string()
        .min(1)
        .max(4096)
        .optional()
        .openapi({ description: 'The platform’s credential for the remote: stored encrypted, never shown again' }),
      credential_header: z.string().regex(HEADER_NAME).max(128).optional().openapi({
        description:
          'The header the credential is sent in as it is (e.g. `X-API-Key`); default `Authorization: Bearer`',
      }),
      timeout_ms: z.number().int().min(100).max(600_000).optional(),
    })
    .strict(),
})
  .strict()
  .openapi('RegisterRemoteVersion', {
    example: { remote: { url: 'https://triton.example.com', model: 'resnet50', version: '3', credential: 's3cr3t' } },
  });

export const ModelVersion = z
  .object({
    model: z.string(),
    version: z.number().int().openapi({ example: 1 }),
    sha256: z.string().openapi({ example: 'a3f5…' }),
    size_bytes: z.number().int(),
    signature: Signature,
    onnx: z.object({
      ir_version: z.number().int().nullable(),
      producer_name: z.string().nullable(),
      producer_version: z.string().nullable(),
      opsets: z.array(z.object({ domain: z.string(), version: z.number().int() })),
    }),
    description: z.string(),
    tags: z.record(z.string(), z.string()),
    metrics: z.record(z.string(), z.number()),
    feature_names: FeatureNames,
    class_labels: ClassLabels,
    aliases: z.array(z.string()),
    artifact_url: z
      .string()
      .nullable()
      .openapi({ example: '/v1/models/iris/versions/1/artifact', description: 'Null for a remote version' }),
    serving: ServingGraph.nullable(),
    backend: Backend,
    remote: RemoteBackendView.nullable(),
    created_by: z.string(),
    created_at: Timestamp,
    archived_at: Timestamp.nullable(),
  })
  .openapi('ModelVersion', { example: ex.MODEL_VERSION });

export const ModelList = z
  .object({ models: z.array(Model), next_cursor: z.string().nullable() })
  .openapi('ModelList', { example: { models: [ex.MODEL], next_cursor: null } });
export const VersionList = z
  .object({ versions: z.array(ModelVersion), next_cursor: z.string().nullable() })
  .openapi('VersionList', { example: { versions: [ex.MODEL_VERSION], next_cursor: null } });

export const AliasChange = z
  .object({
    model: z.string(),
    alias: z.string(),
    version: z.number().int().nullable(),
    previous_version: z.number().int().nullable(),
  })
  .openapi('AliasChange', { example: ex.ALIAS_CHANGE });
