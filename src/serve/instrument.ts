/**
 * The observer `cairn serve` puts on its repository: every answered inference goes to the
 * Prometheus metrics, to its version's prediction log when that version has one, and failures
 * that are not the caller's fault (and every shadow failure) to the structured log — metadata
 * only, never tensors.
 */
import type { Logger } from './logger.js';
import type { ServingMetrics } from './metrics.js';
import type { Answered, AnswerObserver } from './observe.js';
import type { PredictionLog } from './prediction-log.js';
import type { ServedVersion } from './types.js';

export class ServingObserver implements AnswerObserver {
  readonly metrics: ServingMetrics;
  readonly #logger: Logger | undefined;
  /** prediction logs by served version (a reload opens a new one) */
  readonly #logs = new Map<ServedVersion, PredictionLog>();
  /** logs of retired versions still being flushed */
  readonly #closing = new Set<Promise<void>>();

  constructor(metrics: ServingMetrics, logger?: Logger) {
    this.metrics = metrics;
    this.#logger = logger;
  }

  /** Records sampled requests of `served` in `log`. */
  logTo(served: ServedVersion, log: PredictionLog): void {
    this.#logs.set(served, log);
  }

  started(served: ServedVersion): () => void {
    return this.metrics.startRequest({ model: served.model, version: served.version });
  }

  answered(e: Answered): void {
    const { model, version } = e.served;
    this.metrics.observeRequest({
      model,
      version,
      protocol: e.protocol,
      status: e.status,
      totalSeconds: e.totalSeconds,
      inferSeconds: e.inferSeconds,
    });
    if (e.outputs !== undefined && e.request !== undefined) {
      this.#logs.get(e.served)?.record(e.request.id, e.request.inputs, e.outputs);
    }
    if (e.status >= 500 || (e.shadow && e.status !== 200)) {
      this.#logger?.warn(
        {
          model,
          version,
          protocol: e.protocol,
          status: e.status,
          shadow: e.shadow,
          id: e.request?.id,
          reason: e.error instanceof Error ? e.error.message : String(e.error),
        },
        e.shadow ? 'shadow request failed' : 'request failed',
      );
    }
  }

  retired(served: ServedVersion, replaced: boolean): void {
    const log = this.#logs.get(served);
    this.#logs.delete(served);
    if (log !== undefined) {
      const closing = log.close().catch((error: unknown) => {
        this.#logger?.error(
          { model: served.model, version: served.version, err: error },
          'prediction log close failed',
        );
      });
      this.#closing.add(closing);
      void closing.finally(() => this.#closing.delete(closing));
    }
    if (!replaced) this.metrics.forget({ model: served.model, version: served.version });
  }

  /** Writes out every queued prediction record and closes the logs. */
  async close(): Promise<void> {
    const logs = [...this.#logs.values()];
    this.#logs.clear();
    await Promise.all([...logs.map((log) => log.close()), ...this.#closing]);
  }
}
