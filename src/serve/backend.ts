/**
 * What every protocol front end asks of the server, answered from the model repository in one
 * place: the same version pick, readiness check, validation and in-flight counting for REST,
 * KServe V1 and gRPC (whose `InferenceBackend` interface `inferenceBackend` satisfies).
 */
import type { ModelRepository } from './repository.js';
import { validateRequest } from './validate.js';
import {
  InferError,
  type InferRequest,
  type InferResponse,
  type ServedVersion,
  type Tensor,
  type TensorSpec,
} from './types.js';

export const SERVER_NAME = 'cairn';
export const SERVER_VERSION = '0.1.0';
export const EXTENSIONS: readonly string[] = ['binary_tensor_data', 'model_repository'];

export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

export function metadataOf(repo: ModelRepository, served: ServedVersion): ModelMetadata {
  const versions = repo.versions(served.model).map((v) => v.version);
  const { platform, inputs, outputs } = served.runtime;
  return { name: served.model, versions, platform, inputs, outputs };
}

/**
 * Runs a request on a picked version, counted in flight from before its body is decoded
 * (`decode` may still be reading it) until the outputs are back, so an unload waits for it.
 */
export async function execute(
  repo: ModelRepository,
  served: ServedVersion,
  decode: () => InferRequest | Promise<InferRequest>,
  signal?: AbortSignal,
): Promise<{ request: InferRequest; outputs: readonly Tensor[] }> {
  const release = repo.track(served);
  try {
    if (!served.runtime.ready())
      throw new InferError('unavailable', `model "${served.model}" is not ready`);
    const request = await decode();
    validateRequest(request, served.runtime.inputs, served.runtime.outputs);
    return { request, outputs: await served.runtime.infer(request, signal) };
  } finally {
    release();
  }
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
    ): Promise<InferResponse> => {
      const served = repo.pick(name, version);
      const { outputs } = await execute(repo, served, () => request, signal);
      return { modelName: served.model, modelVersion: served.version, id: request.id, outputs };
    },
  };
}
