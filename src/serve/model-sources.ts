/**
 * Where each version of each served model comes from — a `--config` label (the config last
 * applied, SIGHUP included), a SOURCE argument or an earlier repository load — remembered per
 * (model, version), and the repository's loader over them: a load names a version, a source (and
 * perhaps the label to serve it under), or neither (every version the server knows a source for).
 */
import type { ModelConfig, ServeConfig } from './config.js';
import type { LoadRequest } from './repository.js';
import { absoluteSource, NAME_PATTERN } from './source.js';
import { InferError, type ServedVersion } from './types.js';

/** Where one version is loaded from. */
export interface Origin {
  /** the SOURCE; local paths are absolute, except a SOURCE argument's (relative to the cwd) */
  readonly source: string;
  /** the version is a label the source is served under, not the source's own (its digest) */
  readonly labelled: boolean;
  /** declared by the config applied now; a config that no longer declares it forgets it */
  readonly declared: boolean;
}

/** How the server loads and discards one version; the command wires runtimes, metrics, logs. */
export interface VersionLoaders {
  /** `source` served as `label`, or under its own version without one */
  source(name: string, source: string, label: string | undefined): Promise<ServedVersion>;
  /** the same with a config model's settings (runtime, threads, batching, log) */
  config(
    config: ServeConfig,
    m: ModelConfig,
    label: string | undefined,
    source: string,
  ): Promise<ServedVersion>;
  /** closes a version that was loaded and will not be served */
  discard(served: ServedVersion): Promise<void>;
}

export class ModelSources {
  /** model → version → origin, in the order they became known */
  readonly #origins = new Map<string, Map<string, Origin>>();
  readonly #loaders: VersionLoaders;
  /** API sources resolve against it */
  readonly #cwd: string;
  #config: ServeConfig | undefined;

  constructor(loaders: VersionLoaders, cwd: string) {
    this.#loaders = loaders;
    this.#cwd = cwd;
  }

  /** The config applied now (undefined without --config). */
  get config(): ServeConfig | undefined {
    return this.#config;
  }

  /**
   * Applies a config, at start and on each reload: its labels load from its sources from now on
   * (over any source a load gave them), and labels an earlier config declared that this one does
   * not are forgotten.
   */
  apply(config: ServeConfig): void {
    for (const [model, versions] of this.#origins) {
      const now = config.models.find((m) => m.name === model);
      for (const [version, origin] of versions) {
        if (origin.declared && now?.versions.has(version) !== true) versions.delete(version);
      }
    }
    for (const m of config.models) {
      for (const [label, source] of m.versions)
        this.remember(m.name, label, { source, labelled: true, declared: true });
    }
    this.#config = config;
  }

  remember(model: string, version: string, origin: Origin): void {
    const versions = this.#origins.get(model) ?? new Map<string, Origin>();
    versions.set(version, origin);
    this.#origins.set(model, versions);
  }

  origin(model: string, version: string): Origin | undefined {
    return this.#origins.get(model)?.get(version);
  }

  /** The repository's loader (see `LoadRequest`). */
  readonly load = async (name: string, request: LoadRequest): Promise<ServedVersion[]> => {
    const { source, version } = request;
    if (source !== undefined) return [await this.#loadSource(name, source, version)];
    if (version !== undefined) return [await this.#loadVersion(name, version)];
    return this.#loadAll(name);
  };

  /** A new source, under its own version or the label given; remembered for later loads. */
  async #loadSource(
    name: string,
    given: string,
    label: string | undefined,
  ): Promise<ServedVersion> {
    if (label !== undefined && !NAME_PATTERN.test(label)) {
      throw new InferError(
        'bad-request',
        `"version" ${JSON.stringify(label)} is not a version label: use letters, digits, ".", "_" and "-", starting with a letter or digit (without "version", the source is served under its own digest)`,
      );
    }
    const source = absoluteSource(given, this.#cwd);
    const served = await this.#loadOne(name, source, label);
    this.remember(name, served.version, {
      source,
      labelled: label !== undefined,
      declared: false,
    });
    return served;
  }

  /** A version the server knows a source for, loaded again from it. */
  async #loadVersion(name: string, version: string): Promise<ServedVersion> {
    const origin = this.origin(name, version);
    if (origin === undefined) {
      const known = [...(this.#origins.get(name)?.keys() ?? [])];
      const what =
        known.length === 0
          ? `the server knows no source for model "${name}"`
          : `model "${name}" has no version ${version} the server knows a source for; known versions: ${known.join(', ')}`;
      throw new InferError(
        'not-found',
        `${what}. Send {"source": "<SOURCE>", "version": "${version}"} to load a source under that label${known.length === 0 ? '' : ', or name a known version'}.`,
      );
    }
    const served = await this.#loadOne(name, origin.source, origin.labelled ? version : undefined);
    if (served.version !== version) {
      // A digest version whose source now holds other bytes: that version is gone.
      await this.#loaders.discard(served);
      throw new InferError(
        'not-found',
        `model "${name}" version ${version} was loaded from ${origin.source}, which now holds version ${served.version}. Send {"source": ${JSON.stringify(origin.source)}} to load it as that new version.`,
      );
    }
    return served;
  }

  /**
   * Every version the server knows a source for: labelled ones under their labels, the others
   * once per source (a source whose bytes changed comes back as a new version beside the old).
   * All or nothing: when one fails, the ones already loaded are discarded.
   */
  async #loadAll(name: string): Promise<ServedVersion[]> {
    const known = this.#origins.get(name);
    if (known === undefined || known.size === 0) {
      throw new InferError(
        'bad-request',
        `model "${name}" has no source to load it from; send {"source": "<SOURCE>"} (or {"parameters": {"source": "<SOURCE>"}})`,
      );
    }
    const plan = new Map<string, { source: string; label: string | undefined }>();
    for (const [version, origin] of known) {
      const label = origin.labelled ? version : undefined;
      plan.set(label === undefined ? `source ${origin.source}` : `label ${label}`, {
        source: origin.source,
        label,
      });
    }
    const loaded: ServedVersion[] = [];
    try {
      for (const { source, label } of plan.values()) {
        const served = await this.#loadOne(name, source, label);
        loaded.push(served);
        // A source whose bytes changed came back as a new version: remember where it is.
        if (label === undefined && this.origin(name, served.version) === undefined)
          this.remember(name, served.version, { source, labelled: false, declared: false });
      }
    } catch (error) {
      await Promise.all(loaded.map((v) => this.#loaders.discard(v)));
      throw error;
    }
    return loaded;
  }

  /** One version, with the model's config settings when the config applied now declares it. */
  #loadOne(name: string, source: string, label: string | undefined): Promise<ServedVersion> {
    const config = this.#config;
    const m = config?.models.find((c) => c.name === name);
    return config !== undefined && m !== undefined
      ? this.#loaders.config(config, m, label, source)
      : this.#loaders.source(name, source, label);
  }
}
