/**
 * The REST routes: OIP v2 (health, server and model metadata, readiness, inference), the model
 * repository extension (index, load, unload) and KServe V1 (model status, predict). Each
 * handler turns a parsed request into a reply; HTTP plumbing lives in http.ts.
 */
import type { IncomingMessage } from 'node:http';
import { readBody, inferenceHeaderLength } from './http-body.js';
import { decodeInferRequest, encodeInferResponse } from './infer-codec.js';
import { decodePredict, encodePredictions } from './kserve-v1.js';
import type { Protocol } from './metrics.js';
import type { ModelRepository } from './repository.js';
import { execute, EXTENSIONS, metadataOf, SERVER_NAME, SERVER_VERSION } from './backend.js';
import { InferError, type InferRequest, type ServedVersion } from './types.js';

export interface RouteContext {
  readonly req: IncomingMessage;
  /** decoded path parameters, in pattern order (absent optional ones are undefined) */
  params: readonly (string | undefined)[];
  readonly repo: ModelRepository;
  /** bytes */
  readonly maxBody: number;
  readonly requestId: string;
  /** aborted when the client goes away */
  readonly signal: AbortSignal;
  /** set once a model version is picked: its headers go on the reply, errors included */
  answered?: ServedVersion;
}

export interface Reply {
  status: number;
  json?: unknown;
  body?: Buffer | string;
  headers?: Readonly<Record<string, string>>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  pattern: RegExp;
  handler: (c: RouteContext) => Promise<Reply> | Reply;
}

const pickFor = (c: RouteContext): ServedVersion => {
  const [name, version] = c.params;
  if (name === undefined) throw new Error('Internal error: route without a model name');
  const served = c.repo.pick(name, version, c.req.headers);
  c.answered = served;
  return served;
};

/** Reads, decodes and runs a request on the version the route names (or traffic picks). */
async function run(
  c: RouteContext,
  protocol: Protocol,
  decode: (body: Buffer, served: ServedVersion) => InferRequest,
) {
  const [name, version] = c.params;
  if (name === undefined) throw new Error('Internal error: route without a model name');
  const { served, shadow } = c.repo.route(name, version, c.req.headers);
  c.answered = served;
  const done = await execute(
    c.repo,
    served,
    async () => decode(await readBody(c.req, c.maxBody), served),
    { protocol, client: c, ...(shadow === undefined ? {} : { shadow }) },
  );
  return { ...done, served };
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new InferError(
      'bad-request',
      `the request body is not valid JSON (${(error as Error).message})`,
    );
  }
}

/** What a JSON value is, for messages (never the value itself, which may be large). */
const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

/**
 * The string fields of a repository request body: empty, or a JSON object whose fields may
 * also sit under `parameters` (where Triton's and KServe's clients put them). A field of the
 * wrong type, or given twice with two values, is a 400 that names it.
 */
function repositoryFields<K extends string>(
  body: Buffer,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const doc = parseJson(body);
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(doc))
    throw new InferError(
      'bad-request',
      `the request body must be a JSON object like {"version": "v2"}, not ${kindOf(doc)}`,
    );
  const params = doc.parameters;
  if (params !== undefined && !isObject(params))
    throw new InferError(
      'bad-request',
      `"parameters" must be an object like {"version": "v2"}, not ${kindOf(params)}`,
    );
  const fields: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const given = [
      [key, doc[key]],
      [`parameters.${key}`, params?.[key]],
    ] as const;
    for (const [where, value] of given) {
      if (value !== undefined && (typeof value !== 'string' || value === ''))
        throw new InferError(
          'bad-request',
          `"${where}" must be a non-empty string, not ${value === '' ? 'an empty one' : kindOf(value)}`,
        );
    }
    const [top, nested] = given.map(([, value]) => value as string | undefined);
    if (top !== undefined && nested !== undefined && top !== nested)
      throw new InferError(
        'bad-request',
        `"${key}" and "parameters.${key}" disagree (${top} and ${nested}); send one of them`,
      );
    const value = top ?? nested;
    if (value !== undefined) fields[key] = value;
  }
  return fields;
}

const metadata = (c: RouteContext): Reply => ({
  status: 200,
  json: metadataOf(c.repo, pickFor(c)),
});

const JSON_TYPE: Readonly<Record<string, string>> = { 'content-type': 'application/json' };

const M = '/v2/models/([^/]+)(?:/versions/([^/]+))?';

export const ROUTES: readonly Route[] = [
  { method: 'GET', pattern: /^\/v2\/health\/live$/, handler: () => ({ status: 200 }) },
  {
    method: 'GET',
    pattern: /^\/v2\/health\/ready$/,
    handler: (c) => ({ status: c.repo.ready() ? 200 : 503 }),
  },
  {
    method: 'GET',
    pattern: /^\/v2\/?$/,
    handler: () => ({
      status: 200,
      json: { name: SERVER_NAME, version: SERVER_VERSION, extensions: EXTENSIONS },
    }),
  },
  { method: 'GET', pattern: new RegExp(`^${M}$`), handler: metadata },
  {
    method: 'GET',
    pattern: new RegExp(`^${M}/ready$`),
    handler: (c) => ({ status: pickFor(c).runtime.ready() ? 200 : 503 }),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${M}/infer$`),
    handler: async (c) => {
      const header = inferenceHeaderLength(c.req);
      const { request, outputs, served } = await run(c, 'rest', (body) =>
        decodeInferRequest(body, header, c.requestId),
      );
      const response = {
        modelName: served.model,
        modelVersion: served.version,
        id: request.id,
        outputs,
      };
      const encoded = encodeInferResponse(request, response);
      if (!('headerLength' in encoded))
        return { status: 200, body: encoded.body, headers: JSON_TYPE };
      return {
        status: 200,
        body: encoded.body,
        headers: {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(encoded.headerLength),
        },
      };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v2\/repository\/index$/,
    handler: (c) => ({ status: 200, json: c.repo.index() }),
  },
  {
    method: 'POST',
    pattern: /^\/v2\/repository\/models\/([^/]+)\/load$/,
    handler: async (c) => {
      const request = repositoryFields(await readBody(c.req, c.maxBody), ['source', 'version']);
      const loaded = await c.repo.load(c.params[0] ?? '', request);
      // Its headers name the version loaded last: the one that answers without a policy.
      const last = loaded.at(-1);
      if (last !== undefined) c.answered = last;
      return { status: 200, json: {} };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v2\/repository\/models\/([^/]+)\/unload$/,
    handler: async (c) => {
      const { version } = repositoryFields(await readBody(c.req, c.maxBody), ['version']);
      await c.repo.unload(c.params[0] ?? '', version);
      return { status: 200, json: {} };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/models\/([^/:]+)$/,
    handler: (c) => {
      const served = pickFor(c);
      return { status: 200, json: { name: served.model, ready: served.runtime.ready() } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/models\/([^/:]+):predict$/,
    handler: async (c) => {
      const { outputs } = await run(c, 'v1', (body, served) =>
        decodePredict(parseJson(body), served.runtime.inputs, c.requestId),
      );
      return { status: 200, json: { predictions: encodePredictions(outputs) } };
    },
  },
];
