/**
 * What every protocol front end asks of the server, answered from the model repository in one
 * place: the same version pick, readiness check, validation and in-flight counting for REST,
 * KServe V1 and gRPC (whose `InferenceBackend` interface `inferenceBackend` satisfies).
 */
import { CAIRN_VERSION } from '../core/version.js';
import type { Protocol } from './metrics.js';
import type { Answered, AnswerObserver } from './observe.js';
import type { ModelRepository } from './repository.js';
import { validateRequest } from './validate.js';
import {
  HTTP_STATUS,
  InferError,
  type InferRequest,
  type InferResponse,
  type ServedVersion,
  type ModelMetadata,
  type Tensor,
} from './types.js';

export const SERVER_NAME = 'cairn';
export const SERVER_VERSION = CAIRN_VERSION;
export const EXTENSIONS: readonly string[] = ['binary_tensor_data', 'model_repository'];

export function metadataOf(repo: ModelRepository, served: ServedVersion): ModelMetadata {
  const versions = repo.versions(served.model).map((v) => v.version);
  const { platform, inputs, outputs } = served.runtime;
  return { name: served.model, versions, platform, inputs, outputs };
}

/** How a request arrived: its front end and where the repository routed it. */
export interface ExecuteOptions {
  readonly protocol: Protocol;
  /** whose `signal` aborts when the caller goes away; read only if the runtime is abortable */
  readonly client?: { readonly signal: AbortSignal };
  /** a version that also gets the request once the answer is ready; its result is dropped */
  readonly shadow?: ServedVersion;
}

/**
 * Runs a request on a picked version, counted in flight from before its body is decoded
 * (`decode` may still be reading it) until the outputs are back, so an unload waits for it.
 * The repository's observer hears about the answer (and about the shadow copy's, later).
 */
export async function execute(
  repo: ModelRepository,
  served: ServedVersion,
  decode: () => InferRequest | Promise<InferRequest>,
  o: ExecuteOptions,
): Promise<{ request: InferRequest; outputs: readonly Tensor[] }> {
  const release = repo.track(served);
  const observer = repo.observer;
  const ended = observer?.started(served);
  const started = performance.now();
  let request: InferRequest | undefined;
  let inferStarted: number | undefined;
  try {
    const runtime = served.runtime;
    if (!runtime.ready())
      throw new InferError('unavailable', `model "${served.model}" is not ready`);
    request = await decode();
    validateRequest(request, runtime.inputs, runtime.outputs);
    inferStarted = performance.now();
    const outputs = await runtime.infer(
      request,
      runtime.abortable === true ? o.client?.signal : undefined,
    );
    if (observer !== undefined)
      tell(observer, answer(served, o.protocol, 200, started, inferStarted, request, outputs));
    if (o.shadow !== undefined) mirror(repo, o.shadow, request, o.protocol);
    return { request, outputs };
  } catch (error) {
    const status = error instanceof InferError ? HTTP_STATUS[error.reason] : 500;
    if (observer !== undefined)
      tell(
        observer,
        answer(served, o.protocol, status, started, inferStarted, request, undefined, error),
      );
    throw error;
  } finally {
    ended?.();
    release();
  }
}

/** The event for an answered (non-shadow) request, its timings measured up to now. */
function answer(
  served: ServedVersion,
  protocol: Protocol,
  status: number,
  started: number,
  inferStarted: number | undefined,
  request: InferRequest | undefined,
  outputs: readonly Tensor[] | undefined,
  error?: unknown,
): Answered {
  const now = performance.now();
  return {
    served,
    protocol,
    status,
    shadow: false,
    totalSeconds: (now - started) / 1000,
    inferSeconds: inferStarted === undefined ? undefined : (now - inferStarted) / 1000,
    request,
    outputs,
    error,
  };
}

/** Reports an answer; a failing observer must never fail the request it observes. */
function tell(observer: AnswerObserver, event: Answered): void {
  try {
    observer.answered(event);
  } catch {
    // Metrics and logs are best effort; the answer stands.
  }
}

/** Sends a copy of an answered request to the shadow version, after the caller has its answer. */
function mirror(
  repo: ModelRepository,
  shadow: ServedVersion,
  request: InferRequest,
  protocol: Protocol,
): void {
  const release = repo.track(shadow);
  const observer = repo.observer;
  setImmediate(() => {
    const started = performance.now();
    const report = (status: number, outputs?: readonly Tensor[], error?: unknown): void => {
      if (observer === undefined) return;
      tell(observer, {
        served: shadow,
        protocol,
        status,
        shadow: true,
        totalSeconds: (performance.now() - started) / 1000,
        inferSeconds: (performance.now() - started) / 1000,
        request,
        ...(outputs === undefined ? {} : { outputs }),
        ...(error === undefined ? {} : { error }),
      });
    };
    Promise.resolve()
      .then(() => {
        if (!shadow.runtime.ready())
          throw new InferError('unavailable', `model "${shadow.model}" is not ready`);
        validateRequest(request, shadow.runtime.inputs, shadow.runtime.outputs);
        return shadow.runtime.infer(request);
      })
      .then(
        (outputs) => {
          report(200, outputs);
        },
        (error: unknown) => {
          report(error instanceof InferError ? HTTP_STATUS[error.reason] : 500, undefined, error);
        },
      )
      .finally(release);
  });
}

/** The repository as the gRPC front end's `InferenceBackend`. */
export function inferenceBackend(repo: ModelRepository) {
  return {
    live: (): boolean => true,
    ready: (): boolean => repo.ready(),
    modelReady: (name: string, version: string | undefined): boolean =>
      repo.pick(name, version).runtime.ready(),
    serverMetadata: () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: EXTENSIONS }),
    modelMetadata: (name: string, version: string | undefined): ModelMetadata =>
      metadataOf(repo, repo.pick(name, version)),
    infer: async (
      name: string,
      version: string | undefined,
      request: InferRequest,
      signal: AbortSignal,
      headers: Readonly<Record<string, string>> = {},
    ): Promise<InferResponse> => {
      // Metadata stands in for HTTP headers: sticky and pin work as over REST.
      const { served, shadow } = repo.route(name, version, headers);
      const { outputs } = await execute(repo, served, () => request, {
        protocol: 'grpc',
        client: { signal },
        ...(shadow === undefined ? {} : { shadow }),
      });
      return { modelName: served.model, modelVersion: served.version, id: request.id, outputs };
    },
  };
}
