/**
 * The model repository: which versions of which models are loaded, which one answers a
 * request (`pick`, the one routing decision, which traffic splitting replaces), how many
 * requests each version has in flight, and load/unload without a restart — an unloaded
 * version stops being picked at once and is closed only when its last request has finished.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AnswerObserver } from './observe.js';
import type { TrafficRouter } from './traffic.js';
import { InferError, type ServedVersion } from './types.js';

/** Loads a model by name, from `source` or else from wherever it was loaded before. */
export type Loader = (name: string, source: string | undefined) => Promise<ServedVersion>;

/** Where one request goes: the version that answers, and one that gets a mirrored copy. */
export interface Routed {
  readonly served: ServedVersion;
  readonly shadow?: ServedVersion;
}

/** One row of the repository index (the shape Triton's index reports). */
export interface IndexEntry {
  name: string;
  version?: string;
  state: 'READY' | 'UNAVAILABLE';
  reason?: string;
}

export class ModelRepository {
  /** name → versions, oldest first; the last one answers when a request names no version */
  readonly #models = new Map<string, ServedVersion[]>();
  readonly #inFlight = new Map<ServedVersion, number>();
  readonly #idle = new Map<ServedVersion, () => void>();
  /** models that were unloaded, remembered for the index and a later load */
  readonly #unloaded = new Set<string>();
  readonly #loader: Loader | undefined;
  /** models whose unversioned requests a traffic policy splits */
  readonly #traffic = new Map<string, TrafficRouter>();
  #observer: AnswerObserver | undefined;

  constructor(loader?: Loader) {
    this.#loader = loader;
  }

  /** Adds a version; a version already loaded under the same name is replaced (and drained). */
  add(served: ServedVersion): void {
    const versions = (this.#models.get(served.model) ?? []).filter((v) => {
      if (v.version !== served.version) return true;
      // A session that fails to close is gone either way.
      this.#retire(v).catch(() => undefined);
      return false;
    });
    this.#models.set(served.model, [...versions, served]);
    this.#unloaded.delete(served.model);
  }

  /** Every loaded version, models in load order. */
  all(): ServedVersion[] {
    return [...this.#models.values()].flat();
  }

  /** The versions of one model, or a 404. */
  versions(model: string): readonly ServedVersion[] {
    const versions = this.#models.get(model);
    if (versions === undefined || versions.length === 0)
      throw new InferError('not-found', `model "${model}" is not loaded`);
    return versions;
  }

  /**
   * The version that answers a request: the one named, else the one the model's traffic policy
   * routes `headers` to (split, sticky or pinned), else the latest loaded.
   */
  pick(model: string, version?: string, headers?: IncomingHttpHeaders): ServedVersion {
    return this.route(model, version, headers).served;
  }

  /** `pick`, plus the version that should get a mirrored copy (never for an explicit version). */
  route(model: string, version?: string, headers: IncomingHttpHeaders = {}): Routed {
    const versions = this.versions(model);
    if (version !== undefined) return { served: this.#named(model, versions, version) };
    const router = this.#traffic.get(model);
    if (router === undefined) return { served: versions[versions.length - 1] as ServedVersion };
    const decided = router.route(headers);
    const served = this.#named(model, versions, decided.primary);
    if (decided.shadow === undefined) return { served };
    const shadow = versions.find((v) => v.version === decided.shadow);
    return shadow === undefined ? { served } : { served, shadow };
  }

  /** Who is told about every inference answered (metrics, prediction log); one at a time. */
  get observer(): AnswerObserver | undefined {
    return this.#observer;
  }

  observe(observer: AnswerObserver): void {
    this.#observer = observer;
  }

  /** Routes the unversioned requests of `router.policy.model` through it (replacing any). */
  setTraffic(router: TrafficRouter): void {
    this.#traffic.set(router.policy.model, router);
  }

  /** The traffic router of a model, if its requests are split. */
  traffic(model: string): TrafficRouter | undefined {
    return this.#traffic.get(model);
  }

  #named(model: string, versions: readonly ServedVersion[], version: string): ServedVersion {
    const found = versions.find((v) => v.version === version);
    if (found === undefined) {
      throw new InferError(
        'not-found',
        `model "${model}" has no version ${version}; loaded: ${versions.map((v) => v.version).join(', ')}`,
      );
    }
    return found;
  }

  /** Counts a request against a picked version; call the returned function when it ends. */
  track(served: ServedVersion): () => void {
    this.#inFlight.set(served, (this.#inFlight.get(served) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(served) ?? 1) - 1;
      if (left > 0) return void this.#inFlight.set(served, left);
      this.#inFlight.delete(served);
      this.#idle.get(served)?.();
    };
  }

  /** Whether every loaded version can take requests (and at least one is loaded). */
  ready(): boolean {
    const all = this.all();
    return all.length > 0 && all.every((v) => v.runtime.ready());
  }

  index(): IndexEntry[] {
    const loaded = this.all().map((v): IndexEntry => ({
      name: v.model,
      version: v.version,
      state: 'READY',
    }));
    const gone = [...this.#unloaded].map((name): IndexEntry => ({
      name,
      state: 'UNAVAILABLE',
      reason: 'unloaded',
    }));
    return [...loaded, ...gone];
  }

  /** Loads (or reloads) a model through the loader the server was given. */
  async load(name: string, source: string | undefined): Promise<ServedVersion> {
    if (this.#loader === undefined)
      throw new InferError('unavailable', 'this server cannot load models');
    const served = await this.#loader(name, source);
    this.add(served);
    return served;
  }

  /**
   * Stops routing to a model's versions (or one of them) and closes each once its in-flight
   * requests are done; resolves when all are closed.
   */
  async unload(model: string, version?: string): Promise<ServedVersion[]> {
    const versions = this.versions(model);
    const going = version === undefined ? [...versions] : [this.pick(model, version)];
    const left = versions.filter((v) => !going.includes(v));
    if (left.length === 0) {
      this.#models.delete(model);
      this.#unloaded.add(model);
    } else this.#models.set(model, left);
    await Promise.all(going.map((v) => this.#retire(v)));
    return going;
  }

  /** Unloads everything (after a drain), closing every runtime. */
  async close(): Promise<void> {
    await Promise.all([...this.#models.keys()].map((m) => this.unload(m)));
  }

  async #retire(served: ServedVersion): Promise<void> {
    if (this.#inFlight.has(served)) {
      await new Promise<void>((resolve) => this.#idle.set(served, resolve));
      this.#idle.delete(served);
    }
    await served.runtime.close();
    const replaced = this.all().some(
      (v) => v.model === served.model && v.version === served.version,
    );
    this.#observer?.retired?.(served, replaced);
  }
}
