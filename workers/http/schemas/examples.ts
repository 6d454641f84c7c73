/*
 * Examples of the wire bodies for the OpenAPI document, told as one story: the demo `iris`
 * classifier, its versions, a batch job over it, the keys and hooks around it. Each is checked
 * against its schema where it is attached (`.openapi(name, { example })`), so enum fields are
 * marked `as const`.
 */

const AT = '2026-11-26T12:00:00.000Z';
const LATER = '2026-11-26T12:00:04.000Z';
const USER = 'usr_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f';
const WORKSPACE = 'ws_3b9d2f6c1e0a4b7d8c5e9f1a2b3c4d5e';
const JOB = 'job_6f1e0c7b8b3a4c1d9e2f6a7b8c9d0e1f';
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const LABELS = ['setosa', 'versicolor', 'virginica'];

export const ERROR = {
  error: {
    code: 'model_not_found',
    message: "model 'iris' not found",
    request_id: 'req_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
  },
};

/** One per status of the /v1 error envelope. */
export const ERRORS: Record<number, { code: string; message: string }> = {
  400: { code: 'invalid_argument', message: "request body 'instances': expected array, received undefined" },
  401: { code: 'unauthenticated', message: 'missing credential: send "Authorization: Bearer <token>"' },
  403: { code: 'permission_denied', message: "this credential lacks the 'models:write' permission" },
  404: ERROR.error,
  409: { code: 'duplicate_version', message: "this file duplicates version 1 of model 'iris'" },
  411: { code: 'length_required', message: 'send the upload with a Content-Length header' },
  413: { code: 'payload_too_large', message: 'the model file is larger than the limit of 24 MiB' },
  415: {
    code: 'unsupported_media_type',
    message: 'this route takes a JSON body: send "Content-Type: application/json"',
  },
  422: { code: 'invalid_model', message: 'not an ONNX model onnxruntime can load: protobuf parsing failed' },
  429: { code: 'rate_limited', message: 'rate limit exceeded: 120 requests per 60 s; retry after 1 s' },
  502: {
    code: 'backend_error',
    message:
      'remote backend https://triton.example.com model \'resnet50\' answered 500: {"error":"CUDA out of memory"}',
  },
  504: {
    code: 'backend_timeout',
    message: "remote backend https://triton.example.com model 'resnet50' did not answer within 10000 ms",
  },
  503: {
    code: 'unavailable',
    message: 'user accounts are not configured on this server (neither JWT_SECRET nor JWT_PRIVATE_KEY is set)',
  },
};

/** One per status of the Open Inference Protocol's error body. */
export const V2_ERRORS: Record<number, string> = {
  400: "input 'features' has 3 in dimension 1 but the model expects 4 (shape [-1, 4]; -1 is free)",
  401: 'missing credential: send "Authorization: Bearer <token>"',
  403: "this credential lacks the 'predict' permission",
  404: "model 'iris' not found",
  413: 'the request body is larger than the limit of 8 MiB',
  415: 'this route takes a JSON body: send "Content-Type: application/json"',
  429: 'rate limit exceeded: 600 requests per 60 s; retry after 1 s',
  502: 'remote backend https://triton.example.com model \'resnet50\' answered 500: {"error":"CUDA out of memory"}',
  503: "model 'iris' has no version ready to serve",
  504: "remote backend https://triton.example.com model 'resnet50' did not answer within 10000 ms",
};

export const CACHE = { enabled: true, ttl_seconds: 300, shared: false, shared_timeout_ms: 25 };

export const CREATE_MODEL = {
  name: 'iris',
  description: 'Iris species from sepal and petal measurements (cm)',
  task: 'classification' as const,
  tags: { team: 'research' },
  feature_names: FEATURES,
  class_labels: LABELS,
  cache: CACHE,
};

export const UPDATE_MODEL = { description: 'Iris species, weekly retrain', cache: { ttl_seconds: 600 } };

export const MONITORING = { log_sample_rate: 0.1, drift: { psi_threshold: 0.2, ks_threshold: 0.1, window_hours: 24 } };

export const MODEL = {
  ...CREATE_MODEL,
  monitoring: MONITORING,
  latest_version: 2,
  aliases: { production: 1, staging: 2 },
  created_by: USER,
  created_at: AT,
  updated_at: LATER,
  archived_at: null,
};

export const VERSION_METADATA = {
  description: 'retrained on the March sample',
  tags: { commit: '4c2f1e9' },
  metrics: { accuracy: 0.973, f1: 0.968 },
};

export const UPDATE_VERSION = { metrics: { accuracy: 0.975 }, archived: false };

export const TENSOR_SPEC = { name: 'features', datatype: 'FP32' as const, shape: [-1, 4] };

export const SIGNATURE = {
  inputs: [TENSOR_SPEC],
  outputs: [
    { name: 'label', datatype: 'INT64' as const, shape: [-1] },
    { name: 'probabilities', datatype: 'FP32' as const, shape: [-1, 3] },
  ],
  unserved_outputs: [],
};

export const MODEL_VERSION = {
  model: 'iris',
  version: 2,
  sha256: '10b19963c462a366f9bbd36f7f8c5c23297b43448625e8ab75e8658f5bac3a8e',
  size_bytes: 1046,
  signature: SIGNATURE,
  onnx: {
    ir_version: 8,
    producer_name: 'modelflare',
    producer_version: '0.1.0',
    opsets: [{ domain: '', version: 17 }],
  },
  ...VERSION_METADATA,
  feature_names: null,
  class_labels: null,
  aliases: ['staging'],
  artifact_url: '/v1/models/iris/versions/2/artifact',
  serving: null,
  backend: 'isolate',
  remote: null,
  created_by: USER,
  created_at: LATER,
  archived_at: null,
};

export const ALIAS_CHANGE = { model: 'iris', alias: 'production', version: 2, previous_version: 1 };

export const ALIAS_SPLIT_BODY = {
  routes: [
    { version: 3, weight: 90 },
    { version: 4, weight: 10 },
  ],
  shadow: { version: 5, percent: 25 },
  guard: { min_requests: 200, max_error_rate: 0.02, max_p99_ms: 250, max_accuracy_drop: 0.05 },
  steps: [10, 25, 50, 100],
  step_minutes: 30,
};

export const ALIAS_VIEW = {
  model: 'iris',
  alias: 'production',
  version: 3,
  routes: [
    { version: 3, weight: 75 },
    { version: 4, weight: 25 },
  ],
  shadow: { version: 5, percent: 25 },
  guard: { min_requests: 200, max_error_rate: 0.02, max_p99_ms: 250, max_accuracy_drop: 0.05 },
  steps: [10, 25, 50, 100],
  step_minutes: 30,
  state: {
    status: 'ramping' as const,
    revision: 2,
    split_at: '2026-11-26T12:00:00.000Z',
    weights_changed_at: '2026-11-26T12:30:00.000Z',
    next_step: 50,
    next_step_at: '2026-11-26T13:00:00.000Z',
    rolled_back_at: null,
    rollback: null,
  },
  updated_by: 'rollouts',
  updated_at: '2026-11-26T12:30:00.000Z',
};

const LATENCY = { mean: 0.41, p50: 0.35, p95: 0.9, p99: 1.8 };

export const SCORECARD = {
  model: 'iris',
  alias: 'production',
  from: '2026-11-26T12:00:00.000Z',
  to: '2026-11-26T13:00:00.000Z',
  min_requests: 200,
  routes: [
    {
      route: 0,
      version: 3,
      weight: 75,
      requests: 9120,
      errors: { client: 12, server: 0 },
      error_rate: 0.0013,
      latency_ms: LATENCY,
      cache_hit_ratio: 0.42,
      quality: { kind: 'classification' as const, feedback_rows: 812, accuracy: 0.953, mae: null },
      drift: { status: 'ok', checked_at: '2026-11-26T12:55:00.000Z' },
      vs_first: null,
    },
    {
      route: 1,
      version: 4,
      weight: 25,
      requests: 2031,
      errors: { client: 3, server: 0 },
      error_rate: 0.0015,
      latency_ms: LATENCY,
      cache_hit_ratio: 0.4,
      quality: { kind: 'classification' as const, feedback_rows: 190, accuracy: 0.963, mae: null },
      drift: null,
      vs_first: {
        enough_requests: true,
        error_rate: { difference: 0.0002, z: 0.23, p_value: 0.82, significant: false },
        enough_feedback: true,
        accuracy: { difference: 0.01, z: 0.58, p_value: 0.56, significant: false },
      },
    },
  ],
  shadow: {
    version: 5,
    percent: 25,
    requests: 2780,
    errors: 0,
    error_rate: 0,
    rows: 2780,
    agreement_rate: 0.981,
    probability_difference: { mean: 0.031, max: 0.44 },
    outputs: [],
    latency_ms: { primary_mean: 0.41, shadow_mean: 0.47 },
  },
};

const point = (at: string, requests: number, errorRate: number, p99: number) => ({
  at,
  requests,
  rows: requests,
  error_rate: errorRate,
  p50: 0.35,
  p95: 0.9,
  p99,
  cache_hit_ratio: 0.4,
});

export const ALIAS_SERIES = {
  model: 'iris',
  alias: 'production',
  window: { from: '2026-11-26T12:58:00.000Z', to: '2026-11-26T13:00:00.000Z', step_minutes: 1 },
  routes: [
    {
      route: 0,
      version: 3,
      weight: 75,
      series: [point('2026-11-26T12:58:00.000Z', 152, 0.0013, 1.8), point('2026-11-26T12:59:00.000Z', 149, 0, 1.7)],
    },
    {
      route: 1,
      version: 4,
      weight: 25,
      series: [point('2026-11-26T12:58:00.000Z', 17, 0, 2.1), point('2026-11-26T12:59:00.000Z', 50, 0, 1.9)],
    },
  ],
  shadows: [
    {
      version: 5,
      current: true,
      series: [
        {
          at: '2026-11-26T12:58:00.000Z',
          requests: 42,
          errors: 0,
          error_rate: 0,
          agreement_rate: 0.98,
          shadow_ms_mean: 0.47,
        },
        {
          at: '2026-11-26T12:59:00.000Z',
          requests: 50,
          errors: 0,
          error_rate: 0,
          agreement_rate: 0.98,
          shadow_ms_mean: 0.46,
        },
      ],
    },
  ],
  events: [
    {
      at: '2026-11-26T12:58:41.000Z',
      kind: 'stepped' as const,
      actor: 'system',
      by: null,
      routes: [
        { version: 3, weight: 75 },
        { version: 4, weight: 25 },
      ],
    },
  ],
};

export const INFER_REQUEST = {
  id: '42',
  inputs: [
    { name: 'features', shape: [2, 4], datatype: 'FP32' as const, data: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3] },
  ],
};

export const INFER_RESPONSE = {
  model_name: 'iris',
  model_version: '1',
  id: '42',
  outputs: [
    { name: 'label', datatype: 'INT64' as const, shape: [2], data: [0, 2] },
    { name: 'probabilities', datatype: 'FP32' as const, shape: [2, 3], data: [0.9999, 0.0001, 0, 0, 0.00004, 0.99996] },
  ],
};

export const MODEL_METADATA = {
  name: 'iris',
  versions: ['2', '1'],
  platform: 'onnxruntime_onnx' as const,
  inputs: SIGNATURE.inputs,
  outputs: SIGNATURE.outputs,
  parameters: { backend: 'isolate' as const },
};

export const PREDICT_RESPONSE = {
  predictions: [
    { label: 'setosa', probabilities: { setosa: 0.9999, versicolor: 0.0001, virginica: 0 } },
    { label: 'virginica', probabilities: { setosa: 0, versicolor: 0.00004, virginica: 0.99996 } },
  ],
  model: 'iris',
  model_version: 1,
};

export const PREDICT_REQUEST = {
  instances: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }, [6.7, 3.0, 5.2, 2.3]],
};

export const SUBMIT_JOB = {
  model: 'iris',
  version: 'production',
  input: { upload_id: 'upl_4c2f1e9b8a7d4c3b9e2f6a7b8c9d0e1f' },
  chunk_size: 500,
  include_input: false,
};

const JOB_OPTIONS = { chunk_size: 500, outputs: null, include_input: false };

export const JOB_DONE = {
  id: JOB,
  status: 'succeeded' as const,
  model: 'iris',
  version: 1,
  input: { kind: 'upload' as const, ref: 'upl_4c2f1e9b8a7d4c3b9e2f6a7b8c9d0e1f' },
  rows: { total: 3, done: 3, failed: 0 },
  progress: 1,
  chunks: { total: 1, done: 1, failed: 0 },
  options: JOB_OPTIONS,
  errors: [],
  error: null,
  webhook_url: null,
  trigger_id: null,
  results_url: `/v1/jobs/${JOB}/results`,
  created_at: AT,
  started_at: AT,
  finished_at: LATER,
};

export const JOB_SUBMITTED = {
  ...JOB_DONE,
  status: 'queued' as const,
  rows: { total: null, done: 0, failed: 0 },
  progress: null,
  chunks: { total: null, done: 0, failed: 0 },
  started_at: null,
  finished_at: null,
  webhook_secret: null,
};

export const UPLOAD = {
  id: 'upl_4c2f1e9b8a7d4c3b9e2f6a7b8c9d0e1f',
  key: `uploads/${WORKSPACE}/upl_4c2f1e9b8a7d4c3b9e2f6a7b8c9d0e1f.jsonl`,
  size_bytes: 263,
  filename: 'rows.jsonl',
  created_at: AT,
};

export const CREATE_TRIGGER = { name: 'nightly scoring', model: 'iris', version: 'production' };

export const TRIGGER = {
  id: 'trg_7a1c9e0b8b3a4c1d9e2f6a7b8c9d0e1f',
  name: 'nightly scoring',
  model: 'iris',
  version: 'production',
  hook_url: '/v1/hooks/trg_7a1c9e0b8b3a4c1d9e2f6a7b8c9d0e1f',
  options: JOB_OPTIONS,
  created_at: AT,
};

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export const HOOK_ACCEPTED = { job_id: JOB, duplicate: false };

export const CREATE_WEBHOOK = {
  url: 'https://hooks.example.com/modelflare',
  events: ['job.succeeded' as const, 'job.failed' as const],
  description: 'tell the data team',
};

export const WEBHOOK = {
  id: 'whe_7fef142eccca42cdb5f27a28cb02f33e',
  url: 'https://hooks.example.com/modelflare',
  events: ['job.succeeded' as const, 'job.failed' as const],
  description: 'tell the data team',
  enabled: true,
  created_at: AT,
};

export const DELIVERY = {
  id: 'msg_2b8e0c7b8b3a4c1d9e2f6a7b8c9d0e1f',
  event: 'job.succeeded',
  status: 'succeeded' as const,
  attempts: 1,
  last_status_code: 204,
  last_error: null,
  created_at: LATER,
  last_attempt_at: LATER,
  delivered_at: LATER,
};

export const REGISTER = { email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada Lovelace' };

export const TOKEN_SET = {
  access_token: 'eyJhbGciOiJIUzI1NiIsImtpZCI6IjRjMmYxZTliIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c3JfNWYwYyJ9.c2lnbmF0dXJl',
  token_type: 'Bearer' as const,
  expires_in: 900,
  refresh_token: 'mfr_q8Jr3kVb0xNwT2yH6cL9dF1pS4mZ7aE5',
  refresh_expires_in: 2592000,
  user_id: USER,
};

export const ME = {
  kind: 'user' as const,
  id: USER,
  workspace_id: WORKSPACE,
  role: 'owner' as const,
  permissions: ['models:read' as const, 'models:write' as const, 'predict' as const, 'jobs' as const, 'admin' as const],
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  created_at: AT,
  limits: {
    max_model_bytes: 25_165_824,
    max_upload_bytes: 104_857_600,
    max_json_body_bytes: 1_048_576,
    max_predict_body_bytes: 8_388_608,
  },
};

export const RATE_LIMITS = { prediction: 6000, management: 300, window_seconds: 60 };

export const WORKSPACE_EXAMPLE = {
  id: WORKSPACE,
  name: 'fraud team',
  personal: false,
  role: 'owner' as const,
  rate_limits: { prediction: null, management: null, window_seconds: null },
  created_at: AT,
};

export const MEMBER = {
  user_id: USER,
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  role: 'owner' as const,
  joined_at: AT,
};

export const INVITATION = {
  id: 'inv_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
  workspace_id: WORKSPACE,
  email: 'grace@example.com',
  role: 'member' as const,
  status: 'pending' as const,
  invited_by: USER,
  created_at: AT,
  expires_at: '2026-12-03T12:00:00.000Z',
  accepted_at: null,
  accepted_by: null,
  revoked_at: null,
};

export const INVITATION_TOKEN = 'mfi_Hk3nQ8vT1bZ6wY0cR4jL7xP2sD9mF5aE';

export const CREATE_API_KEY = {
  name: 'nightly scorer',
  scopes: ['predict' as const, 'jobs' as const],
  expires_at: '2027-01-31T00:00:00Z',
};

export const API_KEY = {
  id: 'key_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
  name: 'nightly scorer',
  prefix: 'mfk_Ab3dE9xY',
  scopes: ['predict' as const, 'jobs' as const],
  created_by: USER,
  owner_id: USER,
  created_at: AT,
  expires_at: '2027-01-31T00:00:00.000Z',
  revoked_at: null,
  last_used_at: LATER,
};

export const API_KEY_SECRET = 'mfk_Ab3dE9xYq2WvT7nK1pL8sR4mZ6cH0fJ5gB9dN3xQ';

export const AUDIT_ENTRY = {
  id: 1207,
  action: 'alias.set',
  target: 'model:iris/alias:production',
  actor: { kind: 'user' as const, id: USER },
  details: { version: 2, previous_version: 1 },
  request_id: 'req_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
  created_at: LATER,
};

const SUMMARY = {
  requests: 1200,
  rows: 1850,
  errors: { client: 6, server: 0 },
  error_rate: 0.005,
  latency_ms: { mean: 1.9, p50: 1.4, p95: 4.1, p99: 9.8 },
  cache: { hits: 310, misses: 884, bypasses: 0, hit_ratio: 0.2596 },
  batch_rows: { succeeded: 10000, failed: 3 },
  loads: { count: 2, mean_ms: 212 },
};

export const STATS = {
  model: 'iris',
  window: { from: '2026-11-26T11:00:00.000Z', to: AT, step_minutes: 1 },
  total: SUMMARY,
  versions: [{ version: 2, ...SUMMARY }],
  series: [
    {
      at: '2026-11-26T11:59:00.000Z',
      requests: 21,
      rows: 30,
      error_rate: 0,
      p50: 1.3,
      p95: 3.9,
      p99: 7.7,
      cache_hit_ratio: 0.25,
    },
  ],
};

export const PREDICTION = {
  id: 'prd_2c6e1f0a9b8d4c3e7f5a1b2c3d4e5f60',
  model: 'iris',
  version: 2,
  request_id: 'req_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
  rows: 1,
  cache: 'MISS',
  inputs: { instances: [{ sepal_length: 5.9, sepal_width: 3.0, petal_length: 4.2, petal_width: 1.5 }] },
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [1], data: [1] },
    { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.0003, 0.9994, 0.0003] },
  ],
  predicted: ['versicolor'],
  feedback: { actual: ['versicolor'], received_at: LATER },
  created_at: AT,
};

export const FEEDBACK = { actual: 'versicolor' };
export const FEEDBACK_ACCEPTED = { prediction_id: PREDICTION.id, rows: 1 };

export const PERFORMANCE = {
  model: 'iris',
  kind: 'classification' as const,
  step_minutes: 120,
  step: 'hour' as const,
  count: 240,
  metrics: {
    accuracy: 0.9625,
    precision: 0.9611,
    recall: 0.9598,
    f1: 0.9602,
    per_class: {
      setosa: { precision: 1, recall: 1, f1: 1, support: 80 },
      versicolor: { precision: 0.94, recall: 0.9315, f1: 0.9357, support: 73 },
      virginica: { precision: 0.9432, recall: 0.9479, f1: 0.9455, support: 87 },
    },
  },
  series: [{ at: '2026-11-26T00:00:00.000Z', count: 240, value: 0.9625 }],
};

export const SET_BASELINE = { capture: 1000 };

export const BASELINE = {
  model: 'iris',
  version: 2,
  source: 'capture' as const,
  status: 'ready' as const,
  rows: 1000,
  target_rows: 1000,
  features: [{ name: 'petal_length', kind: 'numeric' as const, bins: 10, edges: [1.4, 1.6, 3.9, 4.4, 4.8, 5.1, 5.6] }],
  created_at: AT,
  ready_at: LATER,
};

export const DRIFT_REPORT = {
  model: 'iris',
  version: 2,
  status: 'drifted' as const,
  rows: 1480,
  window_hours: 24,
  thresholds: { psi: 0.2, ks: 0.1 },
  features: [
    { name: 'sepal_length', kind: 'numeric' as const, psi: 0.04, ks: 0.05, drifted: false },
    { name: 'petal_length', kind: 'numeric' as const, psi: 0.31, ks: 0.19, drifted: true },
  ],
  created_at: LATER,
};

export const DRIFT_STATUS = { model: 'iris', version: 2, baseline: BASELINE, report: DRIFT_REPORT };

export const JWKS = {
  keys: [
    {
      kty: 'OKP' as const,
      crv: 'Ed25519' as const,
      x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
      kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
      alg: 'EdDSA' as const,
      use: 'sig' as const,
    },
  ],
};

export const CREATE_ALERT_RULE = {
  name: 'error rate over 5%',
  metric: 'error_rate' as const,
  threshold: 0.05,
  window: '15m',
  min_samples: 50,
};

export const ALERT_RULE = {
  id: 'alr_7d1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f',
  model: 'iris',
  name: 'error rate over 5%',
  metric: 'error_rate' as const,
  condition: 'above' as const,
  threshold: 0.05,
  window: '15m',
  window_minutes: 15,
  min_samples: 50,
  version: null,
  enabled: true,
  state: 'firing' as const,
  last_evaluation: { value: 0.31, samples: 412, at: LATER },
  fired_at: LATER,
  created_at: AT,
  updated_at: AT,
};

export const ALERT_EVENT = {
  id: 31,
  alert_id: ALERT_RULE.id,
  model: 'iris',
  name: 'error rate over 5%',
  kind: 'fired' as const,
  metric: 'error_rate' as const,
  condition: 'above' as const,
  threshold: 0.05,
  value: 0.31,
  samples: 412,
  created_at: LATER,
};

export const REQUEST_FAILURE = {
  id: 'rqf_0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  request_id: 'req_5f0c7b0e8b3a4c1d9e2f6a7b8c9d0e1f',
  method: 'POST',
  route: '/v1/models/:name/predict',
  status: 400,
  code: 'invalid_argument',
  message: "instance 0 lacks feature 'petal_width'",
  model: 'iris',
  version: 2,
  created_at: LATER,
};
