/*
 * Which budget a request draws on. Prediction traffic (Open Inference Protocol under
 * /v2/models, and the /v1 instances API) is counted apart from management so a busy model
 * cannot starve its own deployment tooling, and the other way round. Also picks the body limit:
 * uploads (models, JSONL inputs) stream against their own limits.
 */
export type RouteClass = 'prediction' | 'upload' | 'management';

const V1_PREDICT = /^\/v1\/models\/[^/]+(?:\/versions\/[^/]+)?\/predict\/?$/;
const V1_UPLOAD = /^\/v1\/models\/[^/]+\/versions\/?$/;

export function routeClass(method: string, path: string): RouteClass {
  if (path === '/v2/models' || path.startsWith('/v2/models/')) return 'prediction';
  if (method === 'POST' && V1_PREDICT.test(path)) return 'prediction';
  if (method === 'POST' && (V1_UPLOAD.test(path) || path === '/v1/uploads')) return 'upload';
  return 'management';
}
