/**
 * What the server reports about each inference once it is answered — the version, protocol,
 * status and timings, and the tensors for the prediction log — to whoever observes the
 * repository (metrics, prediction logs and the structured log in `cairn serve`).
 */
import type { Protocol } from './metrics.js';
import type { InferRequest, ServedVersion, Tensor } from './types.js';

export interface Answered {
  readonly served: ServedVersion;
  readonly protocol: Protocol;
  /** HTTP status of the answer (gRPC reports its failure's HTTP equivalent) */
  readonly status: number;
  /** true for a mirrored copy whose answer was discarded */
  readonly shadow: boolean;
  /** seconds from the version being picked to the answer */
  readonly totalSeconds: number;
  /** seconds inside the runtime (including a batch wait); absent if it never ran */
  readonly inferSeconds?: number | undefined;
  /** absent when the request failed before it was decoded */
  readonly request?: InferRequest | undefined;
  /** absent on failure */
  readonly outputs?: readonly Tensor[] | undefined;
  readonly error?: unknown;
}

export interface AnswerObserver {
  /** Marks a request in flight on a version; the returned function ends it. */
  started(served: ServedVersion): () => void;
  answered(event: Answered): void;
  /**
   * A version was unloaded and closed; `replaced` when the same model and version are served
   * again by a newer load (whose series must stay).
   */
  retired?(served: ServedVersion, replaced: boolean): void;
}
