import { z } from '@hono/zod-openapi';
import { jsonDepthExceeded } from '../../core/json-depth';
import { DATATYPES } from '../../core/tensor';
import * as ex from './examples';

/*
 * Open Inference Protocol (V2) wire schemas. Tensor `data` is checked only for being an array
 * here: element-by-element checks happen once, against the model's signature, while decoding.
 */

/** Deepest `parameters` object: the protocol's are flat; anything deeper is no parameter at all. */
const MAX_PARAMETERS_DEPTH = 8;

const parameters = (description: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((p) => jsonDepthExceeded(p, MAX_PARAMETERS_DEPTH) === undefined, {
      error: `parameters nest deeper than the limit of ${MAX_PARAMETERS_DEPTH} levels`,
    })
    .optional()
    .openapi({ description });
const Parameters = parameters('Accepted and ignored unless documented');

/** The protocol extensions served (server metadata lists them). */
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'classification'] as const;

const TensorData = z
  .custom<unknown[]>((v) => Array.isArray(v), { error: 'data must be an array (flat or nested, row-major)' })
  .openapi({
    type: 'array',
    items: {},
    description:
      'Row-major, flat or nested. INT64/UINT64 beyond ±(2^53−1) as decimal strings; NaN and infinities as "NaN", "Infinity", "-Infinity"',
    example: [5.1, 3.5, 1.4, 0.2],
  });

const Datatype = z.enum(DATATYPES).openapi({ example: 'FP32' });

export const InferInput = z
  .object({
    name: z.string().min(1).max(256).openapi({ example: 'features' }),
    shape: z
      .array(z.number().int().min(0).max(2147483647))
      .max(32)
      .openapi({ example: [1, 4] }),
    datatype: Datatype,
    parameters: parameters(
      '`binary_data_size`: the input is sent as that many bytes of binary tensor data after the JSON header (binary tensor data extension) instead of `data`. Other parameters are accepted and ignored.',
    ),
    data: TensorData.optional(),
  })
  .openapi('InferInputTensor', { example: ex.INFER_REQUEST.inputs[0] });

export const InferRequest = z
  .object({
    id: z.string().max(256).optional().openapi({ example: '42' }),
    parameters: parameters(
      '`binary_data_output: true` answers every output as binary tensor data unless an output says otherwise. Other parameters are accepted and ignored.',
    ),
    inputs: z.array(InferInput).min(1).max(256),
    outputs: z
      .array(
        z.object({
          name: z.string().min(1).max(256),
          parameters: parameters(
            '`binary_data` (true or false): this output as binary tensor data or as JSON; `classification: K`: the output’s top K classes per row as BYTES "value:index[:label]".',
          ),
        }),
      )
      .max(256)
      .optional()
      .openapi({ description: 'The outputs to return; all of them when absent' }),
  })
  .openapi('InferRequest', { example: ex.INFER_REQUEST });

export const OutputTensor = z
  .object({
    name: z.string(),
    datatype: Datatype,
    shape: z.array(z.number().int()),
    data: z.array(z.unknown()).optional().openapi({ description: 'Absent when the output is binary tensor data' }),
    parameters: z
      .object({ binary_data_size: z.number().int() })
      .optional()
      .openapi({ description: 'For a binary output: its bytes after the JSON header' }),
  })
  .openapi('InferOutputTensor', { example: ex.INFER_RESPONSE.outputs[1] });

export const InferResponse = z
  .object({
    model_name: z.string().openapi({ example: 'iris' }),
    model_version: z.string().openapi({ example: '1' }),
    id: z.string().optional(),
    outputs: z.array(OutputTensor),
  })
  .openapi('InferResponse', { example: ex.INFER_RESPONSE });

export const TensorMetadata = z
  .object({ name: z.string(), datatype: Datatype, shape: z.array(z.number().int()) })
  .openapi('TensorMetadata', { example: ex.TENSOR_SPEC });

export const ModelMetadata = z
  .object({
    name: z.string(),
    versions: z.array(z.string()).openapi({ description: 'Versions that can be requested, newest first' }),
    platform: z.enum(['onnxruntime_onnx', 'remote']).openapi({
      description: '`remote` for a version an Open Inference Protocol server elsewhere serves',
    }),
    inputs: z.array(TensorMetadata),
    outputs: z.array(TensorMetadata),
    parameters: z.object({
      backend: z.enum(['isolate', 'runner', 'remote']).openapi({
        description:
          'What runs the version: onnxruntime-web in the worker, the native runner (onnxruntime-node), or the remote server it was registered with',
      }),
    }),
  })
  .openapi('ModelMetadata', { example: ex.MODEL_METADATA });

export const ServerMetadata = z
  .object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) })
  .openapi('ServerMetadata', {
    example: { name: 'modelflare', version: '0.1.0', extensions: [...SERVER_EXTENSIONS] },
  });

export const ModelReady = z
  .object({ name: z.string(), ready: z.boolean() })
  .openapi('ModelReady', { example: { name: 'iris', ready: true } });

export const PredictRequest = z
  .object({
    instances: z
      .array(z.unknown())
      .min(1)
      .max(10000)
      .openapi({
        description:
          'One record per row: an object keyed by feature name, an object keyed by input name, or an array in signature order',
        example: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }],
      }),
    parameters: Parameters,
  })
  .openapi('PredictRequest', { example: ex.PREDICT_REQUEST });

export const PredictResponse = z
  .object({
    predictions: z.array(z.unknown()).openapi({
      example: [{ label: 'setosa', probabilities: { setosa: 0.998, versicolor: 0.002, virginica: 0 } }],
    }),
    model: z.string(),
    model_version: z.number().int(),
  })
  .openapi('PredictResponse', { example: ex.PREDICT_RESPONSE });
