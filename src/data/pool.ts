/** A small pool of worker threads for hashing and walking; spawned lazily, closed by the caller. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CairnError } from '../core/errors.js';
import { attachStored } from './cache.js';
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
  /** jobs in flight per worker: a second one queued in the worker hides the round trip */
  readonly #load = new Map<Worker, number>();
  readonly #queue: { id: number; job: Job }[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #jobsOf = new Map<Worker, Set<number>>();
  #nextId = 0;
  #closed = false;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  run<T>(job: Job): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('Internal error: worker pool is closed'));
    const id = this.#nextId++;
    const promise = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: (v) => {
          resolve(v as T);
        },
        reject,
      });
    });
    this.#queue.push({ id, job });
    this.#dispatch();
    return promise;
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let worker = this.#workers.find((w) => (this.#load.get(w) ?? 0) === 0);
      if (worker === undefined && this.#workers.length < this.size) worker = this.#spawn();
      worker ??= this.#workers.find((w) => (this.#load.get(w) ?? 0) < 2);
      if (worker === undefined) return;
      const next = this.#queue.shift();
      if (next === undefined) return;
      this.#load.set(worker, (this.#load.get(worker) ?? 0) + 1);
      this.#jobsOf.get(worker)?.add(next.id);
      worker.postMessage(next);
    }
  }

  #spawn(): Worker {
    const worker = new Worker(workerScript());
    this.#jobsOf.set(worker, new Set());
    worker.on('message', (message: { id: number; reply: JobReply }) => {
      this.#load.set(worker, (this.#load.get(worker) ?? 1) - 1);
      this.#jobsOf.get(worker)?.delete(message.id);
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (pending !== undefined) {
        const reply = message.reply;
        if (reply.ok) pending.resolve(reply.value);
        else {
          const { code, message: text, hint, internal, stored } = reply.error;
          const error = internal
            ? new Error(text)
            : new CairnError(code, text, hint === undefined ? {} : { hint });
          attachStored(error, stored);
          pending.reject(error);
        }
      }
      this.#dispatch();
    });
    worker.on('error', (error) => {
      for (const id of this.#jobsOf.get(worker) ?? []) {
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
