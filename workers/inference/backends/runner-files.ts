import { secretsEqual } from '../../auth/constant-time';

/*
 * How the runner reads model files: `GET /internal/runner/files?key=<R2 key>` with its token.
 * Locally (npm start, tests) the worker answers it as a route; deployed, the container's own
 * outbound requests to RUNNER_FILES_HOST are answered by its Durable Object from R2, so the
 * runner needs no public URL and no internet. Only model files are served.
 */

export const RUNNER_FILES_PATH = '/internal/runner/files';
export const RUNNER_FILES_HOST = 'models.modelflare.internal';

const MODEL_FILE = /^artifacts\/[^/]+\/[^/]+\.onnx$/;

const refuse = (status: number, error: string) => Response.json({ error }, { status });

/** The model file a runner asks for, streamed from R2 with its length and sha256. */
export async function serveRunnerFile(
  bucket: R2Bucket,
  request: Request,
  token: string | undefined,
): Promise<Response> {
  if (!token) return refuse(503, 'RUNNER_TOKEN is not set: the runner cannot be given model files');
  const presented = (request.headers.get('authorization') ?? '').replace(/^Bearer\s+/i, '');
  if (!(await secretsEqual(presented, token))) return refuse(401, 'the runner token does not match RUNNER_TOKEN');
  const key = new URL(request.url).searchParams.get('key') ?? '';
  if (!MODEL_FILE.test(key)) return refuse(400, `'${key}' is not a model file's key`);
  const object = await bucket.get(key);
  if (!object) return refuse(404, `no file ${key} in R2`);
  return new Response(object.body, {
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(object.size),
      ...(object.checksums.sha256 ? { 'Modelflare-Sha256': hex(object.checksums.sha256) } : {}),
    },
  });
}

const hex = (buffer: ArrayBuffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
