import { z } from '@hono/zod-openapi';
import { DATATYPES } from '../../core/tensor';

/*
 * Open Inference Protocol (V2) wire schemas. Tensor `data` is checked only for being an array
 * here: element-by-element checks happen once, against the model's signature, while decoding.
 */

const Parameters = z
  .record(z.string(), z.unknown())
  .optional()
  .openapi({ description: 'Accepted and ignored unless documented' });

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
    parameters: Parameters,
    data: TensorData,
  })
  .openapi('InferInputTensor');

export const InferRequest = z
  .object({
    id: z.string().max(256).optional().openapi({ example: '42' }),
    parameters: Parameters,
    inputs: z.array(InferInput).min(1).max(256),
    outputs: z
      .array(z.object({ name: z.string().min(1).max(256), parameters: Parameters }))
      .max(256)
      .optional()
      .openapi({ description: 'The outputs to return; all of them when absent' }),
  })
  .openapi('InferRequest');

export const OutputTensor = z
  .object({
    name: z.string(),
    datatype: Datatype,
    shape: z.array(z.number().int()),
    data: z.array(z.unknown()),
  })
  .openapi('InferOutputTensor');

export const InferResponse = z
  .object({
    model_name: z.string().openapi({ example: 'iris' }),
    model_version: z.string().openapi({ example: '1' }),
    id: z.string().optional(),
    outputs: z.array(OutputTensor),
  })
  .openapi('InferResponse');

export const TensorMetadata = z
  .object({ name: z.string(), datatype: Datatype, shape: z.array(z.number().int()) })
  .openapi('TensorMetadata');

export const ModelMetadata = z
  .object({
    name: z.string(),
    versions: z.array(z.string()).openapi({ description: 'Versions that can be requested, newest first' }),
    platform: z.literal('onnxruntime_onnx'),
    inputs: z.array(TensorMetadata),
    outputs: z.array(TensorMetadata),
  })
  .openapi('ModelMetadata');

export const ServerMetadata = z
  .object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) })
  .openapi('ServerMetadata');

export const ModelReady = z.object({ name: z.string(), ready: z.boolean() }).openapi('ModelReady');

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
  .openapi('PredictRequest');

export const PredictResponse = z
  .object({
    predictions: z.array(z.unknown()).openapi({
      example: [{ label: 'setosa', probabilities: { setosa: 0.998, versicolor: 0.002, virginica: 0 } }],
    }),
    model: z.string(),
    model_version: z.number().int(),
  })
  .openapi('PredictResponse');
