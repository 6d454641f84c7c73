import { createExecutionContext, env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { inject } from 'vitest';
import { predictionKey } from '../workers/cache/prediction-cache';
import { createWorker } from '../workers/index';
import { platformDeps, type PlatformDeps } from '../workers/platform/deps';
import type { Env } from '../workers/platform/env';

export const ADMIN = env.ADMIN_API_KEY!;

/** Bytes of a file under ../shared/fixtures/onnx (e.g. `models/onnx-node.test_add.onnx`). */
export function fixture(path: string): Uint8Array {
  const b64 = inject('fixtures')[path];
  if (b64 === undefined) throw new Error(`no fixture ${path}`);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export interface CallOptions {
  body?: BodyInit | object;
  headers?: Record<string, string>;
  /** Bearer token; defaults to the admin key, `null` sends no Authorization header. */
  token?: string | null;
  /** The worker to call; defaults to the test isolate's own (see testWorker for a fresh one). */
  via?: TestWorker;
}

/** A worker of its own (empty caches), whose isolate services the test can read. */
export interface TestWorker {
  fetch(request: Request): Promise<Response>;
  services: ReturnType<ReturnType<typeof createWorker>['servicesFor']>;
  /** The deps its routes get: for calling services as if from inside this worker. */
  deps(): PlatformDeps;
}

/** `on`: the bindings and variables it runs with (the test's env by default). */
export function testWorker(on: Env = env as unknown as Env): TestWorker {
  const worker = createWorker();
  const services = worker.servicesFor(on);
  return {
    fetch: async (request) => worker.fetch(request, on, createExecutionContext()),
    services,
    deps: () => {
      const ctx = createExecutionContext();
      return platformDeps(on, services, (work) => ctx.waitUntil(work));
    },
  };
}

/** Calls the worker's fetch handler, as a client on the network would. */
export async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  const token = options.token === undefined ? ADMIN : options.token;
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  let body = options.body;
  if (
    body !== undefined &&
    !(body instanceof Uint8Array) &&
    !(body instanceof FormData) &&
    typeof body === 'object' &&
    !(body instanceof ReadableStream) &&
    !(body instanceof ArrayBuffer)
  ) {
    body = JSON.stringify(body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const request = new Request(`http://modelflare.test${path}`, { method, headers, body: body as BodyInit });
  if (options.via) return options.via.fetch(request);
  return (exports as unknown as { default: Fetcher }).default.fetch(request);
}

/** Calls and parses JSON, failing the test with the body when the status is not the one expected. */
export async function callJson<T = any>(
  method: string,
  path: string,
  status: number,
  options?: CallOptions,
): Promise<T> {
  const res = await call(method, path, options);
  const text = await res.text();
  if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export function uploadRaw(name: string, bytes: Uint8Array, options: CallOptions = {}): Promise<Response> {
  return call('POST', `/v1/models/${name}/versions`, {
    ...options,
    body: bytes,
    headers: { 'content-type': 'application/octet-stream', ...options.headers },
  });
}

export function uploadMultipart(name: string, bytes: Uint8Array, metadata?: unknown): Promise<Response> {
  const form = new FormData();
  form.append('file', new File([bytes], 'model.onnx', { type: 'application/octet-stream' }));
  if (metadata !== undefined) form.append('metadata', JSON.stringify(metadata));
  return call('POST', `/v1/models/${name}/versions`, { body: form });
}

let counter = 0;
/** A model name no other test uses, so tests stay independent whatever storage they share. */
export function uniqueName(prefix = 'm'): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export const ADD_MODEL = 'models/onnx-node.test_add.onnx';

/** A tensor as the fixture cases write it (the V2 JSON encoding). */
export interface FixtureTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** One case of the shared corpus: inputs, expected outputs, and how close counts as equal. */
export interface FixtureCase {
  inputs: FixtureTensor[];
  outputs: FixtureTensor[];
  tolerance: { rtol: number; atol: number };
}

/** An entry of the corpus's index.json: the case, its model, and what onnxruntime-web made of it. */
export interface FixtureIndexEntry {
  name: string;
  case: string;
  model: string;
  status: 'pass' | 'fail' | 'unsupported' | 'model_only';
  failed_at?: string;
}

/** A seeded generator (mulberry32): a failing run can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A JSON file from the fixtures (index.json, cases/*.json). */
export function fixtureJson<T = any>(path: string): T {
  return JSON.parse(new TextDecoder().decode(fixture(path))) as T;
}

/** Uploads bytes as a new model and returns its name. */
export async function newModel(bytes: Uint8Array, prefix = 'm'): Promise<string> {
  const name = uniqueName(prefix);
  const res = await uploadRaw(name, bytes);
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return name;
}

export function infer(path: string, body: unknown, headers?: Record<string, string>, via?: TestWorker) {
  return call('POST', path, { body: body as object, headers, via });
}

export const ENDED = ['succeeded', 'partially_failed', 'failed', 'cancelled'];

/** Polls a job until it ends (the real queues deliver in the background). */
export async function waitForJob(id: string, maxMs = 60_000): Promise<any> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const job = await callJson('GET', `/v1/jobs/${id}`, 200);
    if (ENDED.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not end: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function resultLines(id: string): Promise<any[]> {
  const res = await call('GET', `/v1/jobs/${id}/results`);
  if (res.status !== 200) throw new Error(`results of ${id}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}
export const PASSWORD = 'correct horse battery staple';

export interface TestUser {
  email: string;
  userId: string;
  workspaceId: string;
  token: string;
  refreshToken: string;
}

/** Registers a fresh user (with their personal workspace) and returns their tokens. */
export async function registerUser(prefix = 'user'): Promise<TestUser> {
  const email = `${uniqueName(prefix)}@example.com`;
  const body = await callJson('POST', '/v1/auth/register', 201, {
    token: null,
    body: { email, password: PASSWORD },
  });
  return {
    email,
    userId: body.user_id,
    workspaceId: body.workspace_id,
    token: body.access_token,
    refreshToken: body.refresh_token,
  };
}

/** Creates an API key in the workspace the caller acts in; returns its id and secret. */
export async function createKey(
  scopes: string[],
  options: CallOptions & { expires_at?: string } = {},
): Promise<{ id: string; key: string }> {
  const { expires_at, ...callOptions } = options;
  const body = await callJson('POST', '/v1/api-keys', 201, {
    ...callOptions,
    body: { name: 'test key', scopes, ...(expires_at ? { expires_at } : {}) },
  });
  return { id: body.id, key: body.key };
}

/** Invites a new user into `owner`'s workspace with `role`; returns the member's session. */
export async function addMember(owner: TestUser, role: string): Promise<TestUser> {
  const user = await registerUser(role);
  const invitation = await callJson('POST', '/v1/invitations', 201, {
    token: owner.token,
    body: { email: user.email, role },
  });
  await callJson('POST', '/v1/invitations/accept', 200, { token: user.token, body: { token: invitation.token } });
  return user;
}

/** Headers that make a call act in `workspaceId`. */
export const inWorkspace = (workspaceId: string) => ({ 'modelflare-workspace': workspaceId });

/** This location's Cache API tier of the prediction cache, and the request its entries are keyed by. */
export const locationCache = () => caches.open('modelflare-predictions');
export const locationRequest = (key: string) => new Request(`https://predictions.modelflare.internal/${key}`);

/** The prediction cache key of a regressor (input x FP32 [1, 2], output y) for one row, as the data plane computes it. */
export async function regressorKey(name: string, row: number[], version = 1): Promise<string> {
  const found = await env.DB.prepare(
    'select v.id, v.sha256 from model_versions v join models m on m.id = v.model_id where m.name = ? and v.version = ?',
  )
    .bind(name, version)
    .first<{ id: string; sha256: string }>();
  const x = { datatype: 'FP32' as const, shape: [1, 2], data: new Float32Array(row) };
  return predictionKey({ versionId: found!.id, sha256: found!.sha256 }, { x }, ['y']);
}

const servicesWorker = createWorker();

/** The deps a route or consumer gets, on `on` (the test's env or a faulty one), for calling services directly. */
export function depsFor(on: Env = env as unknown as Env): PlatformDeps {
  const ctx = createExecutionContext();
  return platformDeps(on, servicesWorker.servicesFor(on), (work) => ctx.waitUntil(work));
}

/** Logged predictions are written after the response: waits until this one can be read, and returns it. */
export async function waitForLogged(id: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const res = await call('GET', `/v1/predictions/${id}`);
    if (res.status === 200) return res.json();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`prediction ${id} never appeared`);
}
