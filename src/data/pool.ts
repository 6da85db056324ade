/** A small pool of worker threads for hashing and walking; spawned lazily, closed by the caller. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CairnError } from '../core/errors.js';
import type { Job, JobReply } from './worker.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The compiled worker entry beside this module. When this module runs from TypeScript
 * sources (vitest), threads still need JavaScript: use the build in dist/.
 */
function workerScript(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (fs.existsSync(here)) return here;
  const built = here.replace(/([\\/])src([\\/])data([\\/])worker\.js$/, '$1dist$2data$3worker.js');
  if (fs.existsSync(built)) return built;
  throw new Error(
    `Internal error: no compiled worker at ${here} or ${built}; run \`npm run build\``,
  );
}

export class WorkerPool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: { id: number; job: Job }[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #busy = new Map<Worker, number>();
  #nextId = 0;
  #closed = false;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  run<T>(job: Job): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('Internal error: worker pool is closed'));
    const id = this.#nextId++;
    const promise = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.#queue.push({ id, job });
    this.#dispatch();
    return promise;
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (worker === undefined && this.#workers.length < this.size) worker = this.#spawn();
      if (worker === undefined) return;
      const next = this.#queue.shift();
      if (next === undefined) return;
      this.#busy.set(worker, next.id);
      worker.postMessage(next);
    }
  }

  #spawn(): Worker {
    const worker = new Worker(workerScript());
    worker.on('message', (message: { id: number; reply: JobReply }) => {
      this.#busy.delete(worker);
      this.#idle.push(worker);
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (pending !== undefined) {
        const reply = message.reply;
        if (reply.ok) pending.resolve(reply.value);
        else if (reply.error.internal) pending.reject(new Error(reply.error.message));
        else
          pending.reject(
            new CairnError(
              reply.error.code,
              reply.error.message,
              reply.error.hint === undefined ? {} : { hint: reply.error.hint },
            ),
          );
      }
      this.#dispatch();
    });
    worker.on('error', (error) => {
      const id = this.#busy.get(worker);
      if (id !== undefined) {
        this.#pending.get(id)?.reject(error);
        this.#pending.delete(id);
      }
    });
    this.#workers.push(worker);
    return worker;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
