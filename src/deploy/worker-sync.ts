/**
 * Keeps an environment's worker serving a list of live models: writes its serve.yaml, starts
 * it, reloads it (SIGHUP) when versions come or go, sets weights through its admin route
 * (before a reload, so an abort never waits on one), and notices weights changed by hand.
 * Knows nothing of rollouts: the runner hands it what the state means.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/fs.js';
import { readWeights, writeWeights } from './worker-admin.js';
import { sameWeights, serveConfigText, type LiveModel } from './worker-config.js';
import { Worker, type LoadedVersion, type WorkerOptions } from './worker.js';

export interface WorkerSyncOptions extends Omit<WorkerOptions, 'configFile' | 'onListening'> {
  /** told after it listens (a start or a restart) */
  readonly onListening?: (pid: number, url: string) => void;
  /** weights found changed by hand, before they are put back */
  readonly onDrift?: (model: string, found: Record<string, number>) => void;
  readonly onWarning?: (model: string, reason: string) => void;
}

/** What an apply could not do: `models` whose new versions the worker refused, and why. */
export interface Refusal {
  readonly models: readonly LiveModel[];
  readonly reason: string;
}

export class WorkerSync {
  readonly worker: Worker;
  readonly #o: WorkerSyncOptions;
  #loaded = new Map<string, Set<string>>();
  #written: string | undefined;
  #applied = new Map<string, Readonly<Record<string, number>>>();

  constructor(o: WorkerSyncOptions) {
    this.#o = o;
    this.worker = new Worker({
      ...o,
      configFile: path.join(o.cwd, 'serve.yaml'),
      onListening: (url, models) => {
        this.#loaded = loadedMap(models);
        this.#applied.clear();
        const pid = this.worker.pid;
        if (pid !== undefined) o.onListening?.(pid, url);
      },
      onExit: (why) => {
        this.#loaded.clear();
        o.onExit?.(why);
      },
    });
  }

  /** `version` of `model` is loaded in the running worker. */
  has(model: string, version: string): boolean {
    return this.worker.url !== undefined && this.#loaded.get(model)?.has(version) === true;
  }

  /** Makes the worker serve `live`; answers what it refused, if anything. */
  async apply(live: readonly LiveModel[]): Promise<Refusal | undefined> {
    if (live.length === 0) {
      await this.worker.stop();
      return undefined;
    }
    const text = serveConfigText(live);
    if (text !== this.#written) {
      await fsp.mkdir(this.#o.cwd, { recursive: true });
      await writeFileAtomic(path.join(this.#o.cwd, 'serve.yaml'), text);
      this.#written = text;
    }
    const fresh = live.filter((m) =>
      Object.keys(m.versions).some((v) => this.#loaded.get(m.name)?.has(v) !== true),
    );
    const stale = [...this.#loaded].some(([name, versions]) => {
      const m = live.find((l) => l.name === name);
      return m === undefined || [...versions].some((v) => m.versions[v] === undefined);
    });
    if (this.worker.url === undefined) {
      if (this.worker.busy) return undefined; // starting, or waiting out its backoff
      return this.worker.start().then(
        () => undefined,
        (error: unknown) => ({ models: fresh, reason: (error as Error).message }),
      );
    }
    // Traffic moves first, to versions already loaded: an abort must not wait for a reload.
    for (const m of live) {
      const routed = Object.entries(m.weights).filter(([, w]) => w > 0);
      if (!routed.every(([v]) => this.#loaded.get(m.name)?.has(v) === true)) continue;
      const set = this.#applied.get(m.name);
      if (set === undefined || !sameWeights(set, m.weights)) await this.#put(m.name, m.weights);
    }
    if (fresh.length === 0 && !stale) return undefined;
    const outcome = await this.worker.reload();
    if (!outcome.ok) return { models: fresh, reason: outcome.reason };
    this.#loaded = loadedMap(
      live.flatMap((m) => Object.keys(m.versions).map((version) => ({ name: m.name, version }))),
    );
    for (const m of live) this.#applied.set(m.name, m.weights);
    return undefined;
  }

  /** Puts back weights someone changed through the worker's admin route. */
  async checkDrift(): Promise<void> {
    const url = this.worker.url;
    if (url === undefined) return;
    for (const [model, weights] of this.#applied) {
      const found = await readWeights(url, model);
      if (found === undefined || sameWeights(found, weights)) continue;
      this.#o.onDrift?.(model, found);
      await this.#put(model, weights);
    }
  }

  async #put(model: string, weights: Readonly<Record<string, number>>): Promise<void> {
    const url = this.worker.url;
    if (url === undefined) return;
    const problem = await writeWeights(url, model, weights);
    if (problem === undefined) this.#applied.set(model, weights);
    else this.#o.onWarning?.(model, `setting weights failed: ${problem}`);
  }
}

function loadedMap(models: readonly LoadedVersion[]): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const m of models) map.set(m.name, (map.get(m.name) ?? new Set()).add(m.version));
  return map;
}
