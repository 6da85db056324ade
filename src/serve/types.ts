/**
 * The contracts every serving module shares: Open Inference Protocol (KServe v2) tensors,
 * requests and responses in decoded form, the runtime interface a model implements, and the
 * error a request can fail with. Protocol front ends (REST, gRPC, KServe v1) decode into these
 * types; runtimes (ONNX in-process, supervised process) consume and produce them.
 */

/** OIP datatypes Cairn serves (BF16 is in the spec but ONNX Runtime's JS API has no such type). */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type Datatype = (typeof DATATYPES)[number];

/**
 * Tensor elements, flat and row-major. Numeric types use the matching typed array (64-bit
 * integers as BigInt64Array/BigUint64Array, BOOL as Uint8Array of 0/1, FP16 as the raw IEEE
 * half bits in a Uint16Array); BYTES is one Uint8Array per element.
 */
export type TensorData =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | readonly Uint8Array[];

/** Values of an OIP `parameters` map: a flat map of strings, numbers and booleans. */
export type Parameters = Readonly<Record<string, string | number | boolean>>;

/** A decoded tensor. Invariant: `data.length` is the product of `shape`. */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  /** every dimension ≥ 0 */
  readonly shape: readonly number[];
  readonly data: TensorData;
  readonly parameters?: Parameters;
}

/** What a model declares for one input or output, as model metadata reports it. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  /** -1 for a dynamic dimension */
  readonly shape: readonly number[];
}

export interface RequestedOutput {
  readonly name: string;
  readonly parameters?: Parameters;
}

/** An inference request after decoding and validation against the model's inputs. */
export interface InferRequest {
  /** echoed in the response; minted when the client sent none */
  readonly id: string;
  readonly parameters?: Parameters;
  readonly inputs: readonly Tensor[];
  /** absent: every output */
  readonly outputs?: readonly RequestedOutput[];
}

export interface InferResponse {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly parameters?: Parameters;
  readonly outputs: readonly Tensor[];
}

/** OIP model metadata, as REST and gRPC both report it. */
export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** One loaded model version, whatever executes it. */
export interface ModelRuntime {
  /** OIP platform name, `<project>_<format>`: `onnx_onnxv1`, or the process's own */
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** false while a supervised process is starting or restarting */
  ready(): boolean;
  /**
   * True when `infer` can stop early on its signal (a batch wait, a proxied call); front ends
   * make an AbortSignal for a request only then.
   */
  readonly abortable?: boolean;
  /** Runs one request whose inputs already match `inputs` by name, datatype and shape. */
  infer(request: InferRequest, signal?: AbortSignal): Promise<readonly Tensor[]>;
  /** Frees the session or stops the process; called once no request is in flight. */
  close(): Promise<void>;
}

/** A model version as the server knows it. */
export interface ServedVersion {
  readonly model: string;
  /** the ModelKit's manifest digest, or the ONNX file's sha256 digest for a bare file */
  readonly version: string;
  /** sha256 digest of the bytes that were loaded (`sha256:<hex>`) */
  readonly digest: string;
  readonly runtime: ModelRuntime;
}

/** Why a request failed, mapped to one HTTP status and gRPC code by each front end. */
export type InferFailure =
  'bad-request' | 'not-found' | 'too-large' | 'unavailable' | 'timeout' | 'internal';

/** A request that cannot be answered; `message` is safe to send to the client. */
export class InferError extends Error {
  override readonly name = 'InferError';
  readonly reason: InferFailure;

  constructor(reason: InferFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** HTTP status of each failure (OIP: errors are 4xx with `{"error": ...}`, 503 when not ready). */
export const HTTP_STATUS: Readonly<Record<InferFailure, number>> = {
  'bad-request': 400,
  'not-found': 404,
  'too-large': 413,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};
