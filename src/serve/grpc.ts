/**
 * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`) in front of whatever
 * implements `InferenceBackend` — the server's model repository in `cairn serve`. Decodes typed
 * and raw tensor contents, answers in raw contents as Triton does (typed when the request sets
 * parameter `binary_data_output: false`, unless an output is FP16, which has no typed field),
 * and maps InferError reasons to gRPC status codes.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ModelMetadata } from './types.js';
import type { InferFailure, InferRequest, InferResponse, TensorSpec } from './types.js';
import { InferError, HTTP_STATUS } from './types.js';
import {
  decodeParameters,
  decodeTensor,
  encodeParameters,
  toContents,
  toRaw,
  type WireParameter,
  type WireTensor,
} from './grpc-tensors.js';

/** What the gRPC front end asks of the server; `version` undefined lets the server pick. */
export interface InferenceBackend {
  live(): boolean;
  ready(): boolean;
  /** false for a model that exists but is not ready; throws InferError('not-found') if unknown */
  modelReady(name: string, version: string | undefined): boolean | Promise<boolean>;
  serverMetadata(): { name: string; version: string; extensions: readonly string[] };
  modelMetadata(name: string, version: string | undefined): ModelMetadata | Promise<ModelMetadata>;
  infer(
    name: string,
    version: string | undefined,
    request: InferRequest,
    signal: AbortSignal,
    /** the call's text metadata, lower-case keys: traffic reads its sticky and pin headers */
    headers?: Readonly<Record<string, string>>,
  ): Promise<InferResponse>;
}

/** Where the .proto sits: beside this module, in src/, dist/ and dist/bundle/ alike. */
export const PROTO_PATH = fileURLToPath(new URL('./grpc_predict_v2.proto', import.meta.url));

/** Status code of each failure; `code` as grpc-js numbers them. */
export const GRPC_STATUS: Readonly<Record<InferFailure, grpc.status>> = {
  'bad-request': grpc.status.INVALID_ARGUMENT,
  'not-found': grpc.status.NOT_FOUND,
  'too-large': grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  timeout: grpc.status.DEADLINE_EXCEEDED,
  internal: grpc.status.INTERNAL,
};

/** The service definition, loaded from the .proto (also what a client in a test uses). */
export function loadInferenceProto(): grpc.GrpcObject {
  const definition = protoLoader.loadSync(PROTO_PATH, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}

interface WireInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, WireParameter>;
  inputs: WireTensor[];
  outputs: { name: string; parameters?: Record<string, WireParameter> }[];
  raw_input_contents: Buffer[];
}

/** Called after every ModelInfer with the HTTP-equivalent status, for metrics and logs. */
export type InferObserver = (event: { model: string; status: number; seconds: number }) => void;

/** Adds the OIP service for `backend` to `server`. */
export function addInferenceService(
  server: grpc.Server,
  backend: InferenceBackend,
  observe?: InferObserver,
): void {
  const pkg = loadInferenceProto().inference as grpc.GrpcObject;
  const service = (pkg.GRPCInferenceService as grpc.ServiceClientConstructor).service;
  server.addService(service, {
    ServerLive: unary(() => ({ live: backend.live() })),
    ServerReady: unary(() => ({ ready: backend.ready() })),
    ModelReady: unary(async (r: { name: string; version: string }) => ({
      ready: await backend.modelReady(r.name, version(r.version)),
    })),
    ServerMetadata: unary(() => backend.serverMetadata()),
    ModelMetadata: unary(async (r: { name: string; version: string }) => {
      const m = await backend.modelMetadata(r.name, version(r.version));
      return { ...m, inputs: m.inputs.map(specToWire), outputs: m.outputs.map(specToWire) };
    }),
    ModelInfer: unary(async (wire: WireInferRequest, signal, metadata) => {
      const started = performance.now();
      let status = 200;
      try {
        return await modelInfer(backend, wire, signal, textMetadata(metadata));
      } catch (error) {
        status = error instanceof InferError ? HTTP_STATUS[error.reason] : 500;
        throw error;
      } finally {
        observe?.({
          model: wire.model_name,
          status,
          seconds: (performance.now() - started) / 1000,
        });
      }
    }),
  });
}

async function modelInfer(
  backend: InferenceBackend,
  wire: WireInferRequest,
  signal: AbortSignal,
  headers: Readonly<Record<string, string>>,
): Promise<object> {
  const raw = wire.raw_input_contents;
  if (raw.length > 0 && raw.length !== wire.inputs.length) {
    throw new InferError(
      'bad-request',
      `raw_input_contents has ${raw.length} entries for ${wire.inputs.length} inputs; send one per input`,
    );
  }
  const parameters = decodeParameters(wire.parameters);
  const request: InferRequest = {
    id: wire.id === '' ? randomUUID() : wire.id,
    inputs: wire.inputs.map((input, i) => decodeTensor(input, raw.length > 0 ? raw[i] : undefined)),
    ...(parameters === undefined ? {} : { parameters }),
    ...(wire.outputs.length === 0
      ? {}
      : {
          outputs: wire.outputs.map((o) => {
            const p = decodeParameters(o.parameters);
            return p === undefined ? { name: o.name } : { name: o.name, parameters: p };
          }),
        }),
  };
  const response = await backend.infer(
    wire.model_name,
    version(wire.model_version),
    request,
    signal,
    headers,
  );
  // Typed contents only when asked for and possible: FP16 has no typed field.
  const typed =
    parameters?.binary_data_output === false &&
    response.outputs.every((t) => t.datatype !== 'FP16');
  return {
    model_name: response.modelName,
    model_version: response.modelVersion,
    id: response.id,
    parameters: encodeParameters(response.parameters),
    outputs: response.outputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: encodeParameters(t.parameters),
      ...(typed ? { contents: toContents(t) } : {}),
    })),
    raw_output_contents: typed ? [] : response.outputs.map(toRaw),
  };
}

/** A call's text metadata as request headers (binary `-bin` entries are left out). */
function textMetadata(metadata: grpc.Metadata): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === 'string') headers[key] = value;
  }
  return headers;
}

function version(v: string): string | undefined {
  return v === '' ? undefined : v;
}

function specToWire(spec: TensorSpec): object {
  return { name: spec.name, datatype: spec.datatype, shape: spec.shape };
}

/** A unary handler that answers with `handle`'s value, or with the status of its error. */
function unary<Req, Res>(
  handle: (request: Req, signal: AbortSignal, metadata: grpc.Metadata) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const controller = new AbortController();
    call.on('cancelled', () => {
      controller.abort(new InferError('timeout', 'the client cancelled the call'));
    });
    Promise.resolve()
      .then(() => handle(call.request, controller.signal, call.metadata))
      .then(
        (value) => {
          callback(null, value);
        },
        (error: unknown) => {
          callback(toStatus(error));
        },
      );
  };
}

function toStatus(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof InferError)
    return { code: GRPC_STATUS[error.reason], details: error.message };
  // Anything else is our bug: say so without leaking internals to the client.
  return { code: grpc.status.INTERNAL, details: 'internal error; see the server log' };
}

export interface GrpcServer {
  readonly port: number;
  /** stops taking calls, lets those in flight finish for `graceMs`, then cuts them off */
  close(graceMs?: number): Promise<void>;
}

/** Starts a gRPC server for `backend` on `host:port` (port 0: a free one). */
export async function startGrpcServer(
  backend: InferenceBackend,
  options: { host?: string; port?: number; maxMessageBytes?: number; observe?: InferObserver } = {},
): Promise<GrpcServer> {
  const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': max,
  });
  addInferenceService(server, backend, options.observe);
  const address = `${options.host ?? '127.0.0.1'}:${options.port ?? 0}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error === null) resolve(bound);
      else reject(error);
    });
  });
  return {
    port,
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
