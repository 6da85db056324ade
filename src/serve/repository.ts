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

/** What a repository load asks for (the body of `POST /v2/repository/models/{m}/load`). */
export interface LoadRequest {
  /** a SOURCE to load; absent: the source the server knows for the version (or the model) */
  readonly source?: string;
  /** the version to load; with `source`, the label to serve that source under */
  readonly version?: string;
}

/**
 * Loads versions of a model by name; resolves once every one is ready to take requests (and
 * throws, having closed what it loaded, when one fails). Adding them is the repository's job.
 */
export type Loader = (name: string, request: LoadRequest) => Promise<readonly ServedVersion[]>;

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
  /** name → the ids of its loaded versions, in the same order (what traffic may split over) */
  readonly #ids = new Map<string, readonly string[]>();
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
    this.#set(served.model, [...versions, served]);
    this.#unloaded.delete(served.model);
  }

  #set(model: string, versions: ServedVersion[]): void {
    if (versions.length === 0) {
      this.#models.delete(model);
      this.#ids.delete(model);
      return;
    }
    this.#models.set(model, versions);
    this.#ids.set(
      model,
      versions.map((v) => v.version),
    );
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
   * routes `headers` to (split, sticky or pinned; the split is over the versions loaded now, so
   * an unloaded version's share goes to the others until it is loaded again), else the latest
   * loaded.
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
    const decided = router.route(headers, this.#ids.get(model) ?? []);
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

  /**
   * Loads (or reloads) versions of a model through the loader the server was given. A version
   * already loaded is replaced: the new one answers from then on, the old one closes once its
   * requests in flight are done.
   */
  async load(name: string, request: LoadRequest = {}): Promise<readonly ServedVersion[]> {
    if (this.#loader === undefined)
      throw new InferError('unavailable', 'this server cannot load models');
    const loaded = await this.#loader(name, request);
    for (const served of loaded) this.add(served);
    return loaded;
  }

  /**
   * Stops routing to a model's versions (or one of them) and closes each once its in-flight
   * requests are done; resolves when all are closed.
   */
  async unload(model: string, version?: string): Promise<ServedVersion[]> {
    const versions = this.versions(model);
    const going = version === undefined ? [...versions] : [this.pick(model, version)];
    const left = versions.filter((v) => !going.includes(v));
    this.#set(model, left);
    if (left.length === 0) this.#unloaded.add(model);
    await Promise.all(going.map((v) => this.#retire(v)));
    return going;
  }

  /** Closes a version that was loaded but is not served after all (never `add`ed). */
  async discard(served: ServedVersion): Promise<void> {
    await served.runtime.close();
    const serving = this.all().some(
      (v) => v.model === served.model && v.version === served.version,
    );
    this.#observer?.retired?.(served, serving);
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
