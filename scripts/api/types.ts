/*
 * Helper types over the `paths` that openapi-typescript generates from the OpenAPI snapshot
 * (schema.d.ts): what a route takes and answers, so a client that calls a route the server no
 * longer has, sends a field it no longer accepts or reads one it no longer returns fails `tsc`.
 */
import type { components, paths } from './schema';

export type { components, paths };
export type Schemas = components['schemas'];

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type Path = keyof paths;

type Defined<T> = [T] extends [undefined] ? never : Exclude<T, undefined>;

/** The methods a path has. */
export type MethodOf<P extends Path> = {
  [M in Method]-?: [Defined<paths[P][M]>] extends [never] ? never : M;
}[Method];

export type Operation<P extends Path, M extends MethodOf<P>> = Defined<paths[P][M]>;

type Params<P extends Path, M extends MethodOf<P>> =
  Operation<P, M> extends { parameters: infer X } ? X : Record<string, never>;

export type PathParams<P extends Path, M extends MethodOf<P>> =
  Params<P, M> extends { path: infer X } ? ([X] extends [undefined] ? never : X) : never;

export type QueryParams<P extends Path, M extends MethodOf<P>> =
  Params<P, M> extends { query?: infer X } ? Defined<X> : never;

type Content<B> = B extends { content: infer C } ? C : never;

/** The JSON request body of a route (never when it takes none, or no JSON). */
export type JsonBody<P extends Path, M extends MethodOf<P>> =
  Content<Defined<Operation<P, M> extends { requestBody?: infer B } ? B : never>> extends {
    'application/json': infer J;
  }
    ? J
    : never;

type Responses<P extends Path, M extends MethodOf<P>> = Operation<P, M> extends { responses: infer R } ? R : never;
type OkStatus = 200 | 201 | 202 | 204;

/** The JSON answer of a route's success statuses (undefined for 204). */
export type Ok<P extends Path, M extends MethodOf<P>> = {
  [S in keyof Responses<P, M> & OkStatus]: S extends 204
    ? undefined
    : Content<Responses<P, M>[S]> extends { 'application/json': infer J }
      ? J
      : never;
}[keyof Responses<P, M> & OkStatus];

export interface RequestOptions<P extends Path, M extends MethodOf<P>> {
  params?: PathParams<P, M>;
  query?: QueryParams<P, M>;
  body?: JsonBody<P, M>;
  /** A non-JSON body (model bytes, JSONL): its bytes or a stream of known length. */
  raw?: RawBody;
  headers?: Record<string, string>;
}

export interface RawBody {
  /** The bytes, or a function that opens a fresh stream of them (so a request can be retried). */
  body: Uint8Array | (() => ReadableStream<Uint8Array>);
  contentType: string;
  length: number;
}
