/**
 * Adaptive micro-batching: wraps a runtime whose first dimension is dynamic so that concurrent
 * requests with the same per-row shapes run as one stacked batch, then each gets its own rows
 * back. A request runs at once when the runtime is idle; while it is busy, requests gather until
 * `maxBatchSize` rows are waiting or the first has waited `maxLatencyMs`, or the runtime frees up.
 */
import { batchKey, batchRows, sliceRows, stack } from './batch-stacking.js';
import type { InferRequest, ModelRuntime, Tensor } from './types.js';
import { InferError } from './types.js';

export interface BatchOptions {
  /** rows per run, ≥ 1; a single request with more rows runs alone */
  readonly maxBatchSize: number;
  /** longest a request waits for others before its batch runs, ms, ≥ 0 */
  readonly maxLatencyMs: number;
  /** told about every run: how many requests, rows, and each request's wait in seconds */
  readonly onBatch?: (batch: BatchRun) => void;
}

export interface BatchRun {
  readonly requests: number;
  readonly rows: number;
  readonly queueSeconds: readonly number[];
}

interface Pending {
  readonly request: InferRequest;
  readonly rows: number;
  readonly arrived: number;
  readonly resolve: (outputs: readonly Tensor[]) => void;
  readonly reject: (error: unknown) => void;
}

interface Group {
  readonly key: string;
  readonly items: Pending[];
  rows: number;
  timer?: NodeJS.Timeout;
}

/** The shortest `maxLatencyMs` for which queued requests are withdrawn when their caller leaves. */
const WITHDRAW_AFTER_MS = 50;

/** `runtime`, batching its requests under `options`. */
export function batching(runtime: ModelRuntime, options: BatchOptions): ModelRuntime {
  if (!Number.isInteger(options.maxBatchSize) || options.maxBatchSize < 1) {
    throw new Error(`max_batch_size must be a whole number ≥ 1, got ${options.maxBatchSize}`);
  }
  if (!(options.maxLatencyMs >= 0)) {
    throw new Error(`max_latency_ms must be ≥ 0, got ${options.maxLatencyMs}`);
  }
  return new Batcher(runtime, options);
}

class Batcher implements ModelRuntime {
  readonly #runtime: ModelRuntime;
  readonly #options: BatchOptions;
  /** open groups by batch key, oldest first (Map keeps insertion order) */
  readonly #groups = new Map<string, Group>();
  readonly #running = new Set<Promise<void>>();

  constructor(runtime: ModelRuntime, options: BatchOptions) {
    this.#runtime = runtime;
    this.#options = options;
    this.abortable = options.maxLatencyMs >= WITHDRAW_AFTER_MS;
  }

  /**
   * Whether a queued request leaves its group when its caller goes away. Only worth it for long
   * waits: an AbortController and a listener per request cost more than a short wait (a request
   * whose caller left then runs and its answer is dropped).
   */
  readonly abortable: boolean;

  get platform(): string {
    return this.#runtime.platform;
  }
  get inputs(): ModelRuntime['inputs'] {
    return this.#runtime.inputs;
  }
  get outputs(): ModelRuntime['outputs'] {
    return this.#runtime.outputs;
  }
  ready(): boolean {
    return this.#runtime.ready();
  }

  infer(request: InferRequest, signal?: AbortSignal): Promise<readonly Tensor[]> {
    const rows = batchRows(request);
    if (rows === undefined || rows > this.#options.maxBatchSize) {
      return this.#runtime.infer(request, signal);
    }
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const pending: Pending = { request, rows, arrived: performance.now(), resolve, reject };
      this.#enqueue(batchKey(request), pending);
      signal?.addEventListener(
        'abort',
        () => {
          this.#withdraw(pending);
        },
        { once: true },
      );
    });
  }

  async close(): Promise<void> {
    for (const group of [...this.#groups.values()]) this.#dispatch(group);
    await Promise.allSettled(this.#running);
    await this.#runtime.close();
  }

  #enqueue(key: string, pending: Pending): void {
    let group = this.#groups.get(key);
    if (group !== undefined && group.rows + pending.rows > this.#options.maxBatchSize) {
      this.#dispatch(group);
      group = undefined;
    }
    if (group === undefined) {
      group = { key, items: [], rows: 0 };
      this.#groups.set(key, group);
    }
    group.items.push(pending);
    group.rows += pending.rows;
    if (group.rows >= this.#options.maxBatchSize || this.#running.size === 0) {
      this.#dispatch(group);
    } else if (group.timer === undefined) {
      const open = group;
      open.timer = setTimeout(() => {
        this.#dispatch(open);
      }, this.#options.maxLatencyMs);
    }
  }

  /** A request whose caller gave up while it was still queued leaves its group. */
  #withdraw(pending: Pending): void {
    for (const group of this.#groups.values()) {
      const at = group.items.indexOf(pending);
      if (at < 0) continue;
      group.items.splice(at, 1);
      group.rows -= pending.rows;
      if (group.items.length === 0) this.#close(group);
      pending.reject(new InferError('timeout', 'request abandoned while waiting for a batch'));
      return;
    }
  }

  #close(group: Group): void {
    clearTimeout(group.timer);
    if (this.#groups.get(group.key) === group) this.#groups.delete(group.key);
  }

  #dispatch(group: Group): void {
    this.#close(group);
    if (group.items.length === 0) return;
    const run = this.#run(group.items, group.rows).finally(() => {
      this.#running.delete(run);
      // The runtime is free: whatever gathered while it was busy goes now.
      const oldest = this.#groups.values().next();
      if (this.#running.size === 0 && oldest.done !== true) this.#dispatch(oldest.value);
    });
    this.#running.add(run);
  }

  async #run(items: readonly Pending[], rows: number): Promise<void> {
    const now = performance.now();
    this.#options.onBatch?.({
      requests: items.length,
      rows,
      queueSeconds: items.map((item) => (now - item.arrived) / 1000),
    });
    try {
      const outputs = await this.#runtime.infer(stack(items.map((item) => item.request)));
      let offset = 0;
      for (const item of items) {
        item.resolve(outputs.map((output) => sliceRows(output, offset, item.rows, rows)));
        offset += item.rows;
      }
    } catch (error) {
      for (const item of items) item.reject(error);
    }
  }
}
