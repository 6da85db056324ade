/**
 * Rollout notifications: each rollout event POSTed as JSON to the environment's
 * `spec.notify.webhook`, shaped like Flux notification-controller events. Delivery runs in the
 * background, in order, with a timeout and bounded retries, so a slow or dead receiver never
 * holds up the reconcile loop.
 */
import type { RolloutEvent } from './rollout-types.js';

export interface NotificationEvent {
  readonly involvedObject: { readonly kind: 'Environment'; readonly name: string };
  readonly severity: 'info' | 'error';
  readonly reason: RolloutEvent['reason'];
  readonly message: string;
  readonly metadata: {
    readonly model: string;
    readonly digest: string;
    readonly commit: string;
    readonly step: string;
    readonly weight: string;
  };
  readonly reportingController: 'cairn-agent';
  /** RFC 3339 */
  readonly timestamp: string;
}

/** Flux keeps metadata values as strings; so do we, so receivers written for Flux work. */
export function toNotification(env: string, e: RolloutEvent, at: Date): NotificationEvent {
  return {
    involvedObject: { kind: 'Environment', name: env },
    severity: e.severity,
    reason: e.reason,
    message: `${e.model}: ${e.message}`,
    metadata: {
      model: e.model,
      digest: e.digest,
      commit: e.commit,
      step: String(e.step),
      weight: String(e.weight),
    },
    reportingController: 'cairn-agent',
    timestamp: at.toISOString(),
  };
}

export interface NotifierOptions {
  /** per attempt, ms */
  readonly timeoutMs?: number;
  /** attempts after the first */
  readonly retries?: number;
  /** wait before retry n is backoffMs·2ⁿ⁻¹, ms */
  readonly backoffMs?: number;
  /** events waiting beyond this are dropped, oldest first */
  readonly maxQueued?: number;
  /** told about each event given up on; never sees the webhook's path, which may hold a token */
  readonly onError?: (message: string, event: NotificationEvent) => void;
}

export class Notifier {
  readonly #url: string;
  readonly #options: Required<NotifierOptions>;
  readonly #queue: NotificationEvent[] = [];
  #running: Promise<void> | undefined;

  constructor(webhook: string, options: NotifierOptions = {}) {
    this.#url = webhook;
    this.#options = {
      timeoutMs: 5000,
      retries: 3,
      backoffMs: 500,
      maxQueued: 100,
      onError: () => undefined,
      ...options,
    };
  }

  /** Queues `event` and returns at once. */
  send(event: NotificationEvent): void {
    this.#queue.push(event);
    while (this.#queue.length > this.#options.maxQueued) {
      const dropped = this.#queue.shift();
      if (dropped !== undefined)
        this.#options.onError(`${this.#where}: queue full, dropped`, dropped);
    }
    this.#running ??= this.#drainQueue().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once everything queued so far was delivered or given up on (for shutdown). */
  async drain(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  get #where(): string {
    return `notification webhook ${new URL(this.#url).origin}`;
  }

  async #drainQueue(): Promise<void> {
    for (let event = this.#queue.shift(); event !== undefined; event = this.#queue.shift()) {
      const problem = await this.#deliver(event);
      if (problem !== undefined) this.#options.onError(`${this.#where}: ${problem}`, event);
    }
  }

  /** Undefined when delivered, else why it was given up on. */
  async #deliver(event: NotificationEvent): Promise<string | undefined> {
    const { retries, backoffMs, timeoutMs } = this.#options;
    let problem = '';
    let attempts = 0;
    for (let attempt = 0; attempt <= retries; attempt++) {
      attempts++;
      if (attempt > 0) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
      try {
        const res = await fetch(this.#url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'cairn-agent' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return undefined;
        problem = `HTTP ${String(res.status)}`;
        // A 4xx other than 408/429 will not get better by asking again.
        if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
        problem = cause instanceof Error ? cause.message : String(cause);
      }
    }
    return `${problem} (gave up after ${String(attempts)} attempt${attempts === 1 ? '' : 's'})`;
  }
}
