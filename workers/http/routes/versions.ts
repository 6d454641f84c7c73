import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { getVersion, listVersions, openArtifact, updateVersion, createVersion } from '../../registry/versions';
import { readModelUpload } from '../model-upload';
import { goesToRunner, registerRemote, uploadForRunner } from '../backend-versions';
import type { ModelVersion as Version } from '../../registry/types';
import { announce } from '../announce';
import { audit } from '../audit';
import { presentVersion } from '../presenters/registry';
import { defineRoute } from '../route';
import { newRouter } from '../router';
import { scopeOf } from '../scope';
import { BooleanQuery, Cursor, Limit, ModelName, VersionRef, jsonContent } from '../schemas/common';
import { ModelVersion, RegisterRemoteBody, UpdateVersionBody, VersionList } from '../schemas/registry';

const NameParam = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' } }) });
const VersionParams = NameParam.extend({
  version: VersionRef.openapi({ param: { name: 'version', in: 'path' } }),
});

export const versionRoutes = newRouter()
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'stream', errors: [409, 413, 415, 422, 502, 504] },
      {
        method: 'post',
        path: '/v1/models/{name}/versions',
        tags: ['Registry'],
        summary: 'Upload a model version',
        description: [
          'Uploads an ONNX file as the next version, creating the model if it is new.',
          'Where it runs (`backend`): files up to MAX_MODEL_BYTES run in the worker (`isolate`); larger files, up to MAX_RUNNER_MODEL_BYTES, on the native runner (`runner`: onnxruntime-node on Cloudflare Containers), which `?backend=runner` asks for at any size. A runner upload streams to R2 in parts (send the raw bytes with a Content-Length; a multipart form is read whole, up to MAX_MODEL_BYTES) and the runner loads it to validate it and read its signature.',
          'Send the raw bytes (`Content-Type: application/octet-stream`) or a multipart form with a `file` part and an optional `metadata` JSON part (description, tags, metrics, feature_names, class_labels).',
          'The file is loaded with onnxruntime-web before anything is stored: a file that is empty, not ONNX, truncated, over MAX_MODEL_BYTES (413), with a graph of more than MAX_MODEL_NODES nodes or an operator the runtime lacks (422) stores nothing.',
          'Uploading bytes identical to an existing version of the same model answers 409 `duplicate_version` with that version in `details`.',
        ].join('\n\n'),
        request: {
          params: NameParam,
          query: z.object({
            backend: z
              .enum(['isolate', 'runner'])
              .optional()
              .openapi({ description: 'Where the file runs; by default the isolate when it fits, else the runner' }),
          }),
          body: {
            required: true,
            content: {
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: {
                    file: { type: 'string', format: 'binary', description: 'The ONNX file' },
                    metadata: {
                      type: 'string',
                      description: 'JSON: description, tags, metrics, feature_names, class_labels',
                    },
                  },
                },
              },
            },
          },
        },
        responses: { 201: jsonContent(ModelVersion, 'The new version') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const { backend } = c.req.valid('query');
      c.get('access').model = name;
      const config = c.get('deps').config;
      let version: Version;
      if (goesToRunner(c, backend)) {
        version = await uploadForRunner(c, name);
      } else {
        const upload = await readModelUpload(c.req.raw, config.MAX_MODEL_BYTES);
        const created = await createVersion(c.get('deps'), scopeOf(c), name, upload.bytes, upload.fields, {
          maxNodes: config.MAX_MODEL_NODES,
        });
        version = created.version;
        // The model was just loaded to validate it: keep it warm for the predictions that follow.
        c.get('deps').sessions.adopt(version.id, version.serving?.sizeBytes ?? version.sizeBytes, created.loaded);
      }
      await recordNewVersion(c, name, version);
      return c.json(presentVersion(version), 201, { Location: `/v1/models/${name}/versions/${version.version}` });
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [409, 422] },
      {
        method: 'post',
        path: '/v1/models/{name}/remote-versions',
        tags: ['Registry'],
        summary: 'Register a remote version',
        description: [
          'Registers, as the next version, a model that an Open Inference Protocol V2 server already serves (Triton, KServe, MLServer, another modelflare): predictions for the version are sent to it, while the registry, auth, cache, validation, monitoring, drift, batch jobs, webhooks and traffic splits stay the platform’s.',
          'The signature is read from the remote’s model metadata (`GET {url}/v2/models/{model}[/versions/{version}]`); a remote that does not answer, or does not describe the model as the protocol says, is refused with 422 `remote_unreadable` and its answer. Tensors go to it as binary tensor data when its server metadata lists the extension.',
          'The credential (sent as `Authorization: Bearer <credential>`, or as it is in `credential_header`) is stored encrypted under SECRETS_ENCRYPTION_KEY and only ever sent to that remote; the caller’s own credential never is. Registering the same remote model twice for one model answers 409 `duplicate_version`.',
        ].join('\n\n'),
        request: {
          params: NameParam,
          body: { required: true, content: { 'application/json': { schema: RegisterRemoteBody } } },
        },
        responses: { 201: jsonContent(ModelVersion, 'The new version') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      c.get('access').model = name;
      const version = await registerRemote(c, name, c.req.valid('json'));
      await recordNewVersion(c, name, version);
      return c.json(presentVersion(version), 201, { Location: `/v1/models/${name}/versions/${version.version}` });
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/versions',
        tags: ['Registry'],
        summary: 'List versions',
        description: 'Versions of a model, newest first, a page at a time.',
        request: {
          params: NameParam,
          query: z.object({
            limit: Limit,
            cursor: Cursor,
            include_archived: BooleanQuery.openapi({ type: 'string', enum: ['true', 'false'] }),
          }),
        },
        responses: { 200: jsonContent(VersionList, 'A page of versions') },
      },
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      c.get('access').model = name;
      const page = await listVersions(c.get('deps'), scopeOf(c), name, {
        limit: q.limit,
        cursor: q.cursor,
        includeArchived: q.include_archived,
      });
      return c.json({ versions: page.versions.map(presentVersion), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/versions/{version}',
        tags: ['Registry'],
        summary: 'Get a version',
        description: 'One version by number, `latest`, or alias, with its signature and metadata.',
        request: { params: VersionParams },
        responses: { 200: jsonContent(ModelVersion, 'The version') },
      },
    ),
    async (c) => {
      const { name, version } = c.req.valid('param');
      c.get('access').model = name;
      const found = await getVersion(c.get('deps'), scopeOf(c), name, version);
      c.get('access').version = found.version;
      return c.json(presentVersion(found), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'json', errors: [404, 409] },
      {
        method: 'patch',
        path: '/v1/models/{name}/versions/{version}',
        tags: ['Registry'],
        summary: 'Update version metadata',
        description:
          'The file and its number never change; description, tags, metrics, feature names and class labels can. `"archived": true` archives (refused while an alias points at it), `false` restores.',
        request: {
          params: VersionParams,
          body: { required: true, content: { 'application/json': { schema: UpdateVersionBody } } },
        },
        responses: { 200: jsonContent(ModelVersion, 'The updated version') },
      },
    ),
    async (c) => {
      const { name, version } = c.req.valid('param');
      const body = c.req.valid('json');
      c.get('access').model = name;
      const updated = await updateVersion(c.get('deps'), scopeOf(c), name, version, {
        description: body.description,
        tags: body.tags,
        metrics: body.metrics,
        featureNames: body.feature_names,
        classLabels: body.class_labels,
        archived: body.archived,
      });
      c.get('access').version = updated.version;
      await audit(c, {
        action: 'version.update',
        target: `model:${name}/version:${updated.version}`,
        details: { fields: Object.keys(body) },
      });
      return c.json(presentVersion(updated), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:write', budget: 'management', body: 'none', errors: [404, 409] },
      {
        method: 'delete',
        path: '/v1/models/{name}/versions/{version}',
        tags: ['Registry'],
        summary: 'Archive a version',
        description:
          'Archives the version: `latest` skips it, aliases cannot point at it, inference refuses it. Its file is kept; restore with PATCH `{"archived": false}`.',
        request: { params: VersionParams },
        responses: { 200: jsonContent(ModelVersion, 'The archived version') },
      },
    ),
    async (c) => {
      const { name, version } = c.req.valid('param');
      c.get('access').model = name;
      const updated = await updateVersion(c.get('deps'), scopeOf(c), name, version, { archived: true });
      c.get('access').version = updated.version;
      await audit(c, { action: 'version.archive', target: `model:${name}/version:${updated.version}` });
      return c.json(presentVersion(updated), 200);
    },
  )
  .openapi(
    defineRoute(
      { access: 'models:read', budget: 'management', body: 'none', errors: [404] },
      {
        method: 'get',
        path: '/v1/models/{name}/versions/{version}/artifact',
        tags: ['Registry'],
        summary: 'Download the ONNX file',
        description:
          'Streams the file from R2 with Content-Length, and its sha256 as the ETag (If-None-Match answers 304).',
        request: { params: VersionParams },
        responses: {
          200: {
            description: 'The ONNX file',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          304: { description: 'Not modified' },
        },
      },
    ),
    async (c) => {
      const { name, version } = c.req.valid('param');
      c.get('access').model = name;
      const { version: found, object } = await openArtifact(c.get('deps'), scopeOf(c), name, version);
      c.get('access').version = found.version;
      const etag = `"${found.sha256}"`;
      const headers = {
        ETag: etag,
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': `attachment; filename="${name}-v${found.version}.onnx"`,
        'Cache-Control': 'private, max-age=31536000, immutable',
      };
      if (c.req.header('if-none-match') === etag) {
        await object.body.cancel();
        return c.body(null, 304, headers);
      }
      return c.body(object.body, 200, { ...headers, 'Content-Length': String(object.size) });
    },
  );

/** A new version, uploaded or registered: the access line, the webhook event and the audit entry. */
async function recordNewVersion(c: Context<AppEnv>, name: string, version: Version): Promise<void> {
  c.get('access').version = version.version;
  await announce(c, 'model.version.created', {
    model: name,
    version: version.version,
    sha256: version.sha256,
    size_bytes: version.sizeBytes,
    backend: version.backend,
  });
  await audit(c, {
    action: 'version.create',
    target: `model:${name}/version:${version.version}`,
    details: {
      sha256: version.sha256,
      size_bytes: version.sizeBytes,
      backend: version.backend,
      ...(version.remote ? { remote: `${version.remote.url} ${version.remote.model}` } : {}),
    },
  });
}
