/**
 * `cairn serve [--config FILE] [SOURCE...]`: resolves each source and each config version,
 * loads one runtime per model version, puts traffic policies, metrics and prediction logs on
 * the repository, and starts the Open Inference Protocol server over REST (and gRPC when asked).
 * Returns a handle (ports, models, reload, drain); the CLI prints the listening line, reloads
 * on SIGHUP and drains on SIGTERM.
 */
import path from 'node:path';
import { directIoAllowed } from '../core/direct-io.js';
import { CairnError } from '../core/errors.js';
import type { CommandContext } from './context.js';
import { clientFor, openStore, type RemoteFlags } from './options.js';
import type { ServeConfig } from '../serve/config.js';
import type { GrpcServer } from '../serve/grpc.js';
import type { Logger } from '../serve/logger.js';
import type { ServingMetrics } from '../serve/metrics.js';
import type { ReloadResult } from '../serve/reload.js';
import type { ModelRepository } from '../serve/repository.js';
import type { Route } from '../serve/routes.js';
import type { DrainResult } from '../serve/server.js';
import {
  resolveSource,
  splitNamed,
  type ModelKitAccess,
  type ResolvedSource,
} from '../serve/source.js';
import type { ServedVersion } from '../serve/types.js';

export interface ServeOptions extends RemoteFlags {
  sources: readonly string[];
  host: string;
  /** 0 picks a free port */
  port: number;
  /** bytes */
  maxBody: number;
  /** ONNX Runtime intra-op threads per session; default: available parallelism */
  threads?: number;
  /** extra HTTP routes (metrics and other extensions) */
  routes?: readonly Route[];
  onError?: (error: unknown) => void;
  /** a serve.yaml (see docs/serving.md), relative to cwd */
  config?: string;
  /** also serve OIP over gRPC on this port (0: a free one) */
  grpcPort?: number;
  /** share of requests each version's prediction log records, 0 to 1 (overrides the config) */
  logSample?: number;
  /** where prediction logs go, one folder per model version; default .cairn/predictions */
  logDir?: string;
  logger?: Logger;
  /** `prefetchSources` of the same `sources`, started before the caller loaded its modules */
  prefetched?: readonly Prefetched[];
}

export interface ServedModel {
  name: string;
  version: string;
  digest: string;
  source: string;
}

export interface ServeHandle extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly models: readonly ServedModel[];
  readonly repo: ModelRepository;
  readonly metrics: ServingMetrics;
  /** the gRPC port, when --grpc-port was given */
  readonly grpcPort?: number;
  /** Re-reads --config: loads new versions, swaps traffic policies, unloads dropped versions. */
  reload(): Promise<ReloadResult>;
  drain(timeoutMs: number): Promise<DrainResult>;
}

/** The local store, `cairn pull` and `cairn unpack` as the source resolver needs them. */
function modelKitAccess(ctx: CommandContext, o: RemoteFlags): ModelKitAccess {
  const store = () => openStore(ctx, o);
  return {
    cwd: ctx.cwd,
    openStore: store,
    async pull(reference) {
      // The registry transport (undici) loads only when a ModelKit is not in the local store.
      const { pullChain } = await import('../modelkit/remote.js');
      await pullChain({
        store: await store(),
        reference,
        connect: (ref) => clientFor(ctx, ref, o),
        concurrency: o.concurrency ?? 5,
        sink: ctx.sink,
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      });
    },
    async unpack(pinned, dir) {
      // The general unpack loads only for layers the direct read declines (compressed, chained).
      const { loadStoredModelKit, unpackChain, unpackMaxRatio } =
        await import('../modelkit/unpack-chain.js');
      const { parseFilter } = await import('../modelkit/unpack-filter.js');
      const s = await store();
      await unpackChain({
        store: s,
        reference: pinned,
        loaded: await loadStoredModelKit(s, pinned),
        dir,
        overwrite: false,
        ignoreExisting: false,
        filters: ['model', 'kitfile'].map(parseFilter),
        sink: ctx.sink,
        maxRatio: unpackMaxRatio(ctx.env),
        directIo: directIoAllowed(ctx.env),
        loadParent: (parent) => loadStoredModelKit(s, parent),
      });
    },
  };
}

/** `sha256:abc` as a folder name. */
const folderOf = (version: string): string => version.replace(/[^A-Za-z0-9._-]/g, '-');

/** A source being resolved, and when that began (its load time counts from there). */
export interface Prefetched {
  readonly started: number;
  readonly source: Promise<ResolvedSource>;
  /** settles once its metadata is found and its bytes are being read (or it failed) */
  readonly reading: Promise<void>;
}

/**
 * Starts resolving and reading each SOURCE (a 10 MB model is ~40 ms of reading and page faults
 * here) so that it overlaps loading the server's modules; `serve` takes the promises back as
 * `prefetched`. A failure surfaces when `serve` reaches that source, in order.
 */
export function prefetchSources(
  ctx: CommandContext,
  o: RemoteFlags,
  sources: readonly string[],
): Prefetched[] {
  const access = modelKitAccess(ctx, o);
  return sources.map((arg) => {
    const started = performance.now();
    let read = (): void => undefined;
    const reading = new Promise<void>((resolve) => (read = resolve));
    const source = resolveSource(access, arg, read);
    source.then(read, read); // a failure is awaited (and reported) by serve
    return { started, source, reading };
  });
}

export async function serve(ctx: CommandContext, o: ServeOptions): Promise<ServeHandle> {
  const access = modelKitAccess(ctx, o);
  const prefetched =
    o.prefetched?.length === o.sources.length ? o.prefetched : prefetchSources(ctx, o, o.sources);
  // The server (and prom-client) loads while the sources are read: only the source resolver
  // and the store are imported statically, so that prefetchSources starts the reads first.
  const {
    ADMIN_ROUTES,
    createApp,
    createSourceRuntime,
    inferenceBackend,
    loadConfigVersion,
    metricsRoute,
    ModelRepository,
    ModelSources,
    PredictionLog,
    policyOf,
    preloadOnnxRuntime,
    ServingMetrics,
    ServingObserver,
    startServer,
    TrafficRouter,
  } = await import('../serve/server-parts.js');
  // The config parser (zod, three quarters of a megabyte of bundle) loads only for --config.
  const config: ServeConfig | undefined =
    o.config === undefined
      ? undefined
      : await (await import('../serve/config.js')).readServeConfig(o.config, ctx.cwd);
  if (o.sources.length === 0 && config === undefined)
    throw new CairnError('no-source', 'nothing to serve', {
      hint: 'Name an .onnx file, a folder with a Kitfile, or a ModelKit reference, or pass --config serve.yaml.',
    });
  if (o.logSample !== undefined && !(o.logSample >= 0 && o.logSample <= 1))
    throw new CairnError('bad-flag', `--log-sample ${o.logSample} is not between 0 and 1`, {
      hint: 'Give the share of requests to record, like 0.1.',
    });
  preloadOnnxRuntime();
  const metrics = new ServingMetrics();
  const observer = new ServingObserver(metrics, o.logger);
  const logDir = path.resolve(ctx.cwd, o.logDir ?? path.join('.cairn', 'predictions'));
  const openLog = (
    served: ServedVersion,
    sample: number | undefined,
    sizes?: { maxBytes: number; keep: number },
  ): void => {
    if (sample === undefined || sample <= 0) return;
    observer.logTo(
      served,
      PredictionLog.open({
        dir: path.join(logDir, served.model, folderOf(served.version)),
        model: served.model,
        version: served.version,
        digest: served.digest,
        sample,
        ...(sizes ?? {}),
        onError: (error) =>
          o.logger?.error(
            { model: served.model, version: served.version, err: error },
            'prediction log write failed',
          ),
      }),
    );
  };
  /** Loads a SOURCE, served as `label` when given, else under its own version. */
  const load = async (
    arg: string,
    pending?: Prefetched,
    label?: string,
  ): Promise<ServedVersion> => {
    const started = pending?.started ?? performance.now();
    const source = await (pending?.source ?? resolveSource(access, arg));
    const { runtime, digest } = await createSourceRuntime(source, o.threads);
    const served = {
      model: source.name,
      version: label ?? source.version,
      digest,
      runtime,
    };
    metrics.observeLoad(
      { model: served.model, version: served.version },
      (performance.now() - started) / 1000,
    );
    openLog(served, o.logSample);
    return served;
  };
  const loadOptions = {
    access,
    metrics,
    ...(o.threads === undefined ? {} : { threads: o.threads }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
  };
  const loadVersion = async (
    file: ServeConfig,
    m: ServeConfig['models'][number],
    label: string | undefined,
    source: string,
  ): Promise<ServedVersion> => {
    const served = await loadConfigVersion({ ...loadOptions, config: file }, m, label, source);
    openLog(served, o.logSample ?? m.log?.sample, m.log);
    return served;
  };
  // Where every version comes from, per (model, version): the repository's loads use it.
  const sources = new ModelSources(
    {
      source: (name, source, label) => load(`${name}=${source}`, undefined, label),
      config: loadVersion,
      discard: (served): Promise<void> => repo.discard(served),
    },
    ctx.cwd,
  );
  const repo: ModelRepository = new ModelRepository(sources.load);
  repo.observe(observer);
  try {
    if (config !== undefined) sources.apply(config);
    for (const m of config?.models ?? []) {
      const policy = policyOf(m);
      for (const [label, source] of m.versions)
        repo.add(await loadVersion(config as ServeConfig, m, label, source));
      repo.setTraffic(new TrafficRouter(policy));
    }
    const fromConfig = new Set(config?.models.map((m) => m.name));
    // One at a time: each session already uses every core.
    for (const [i, arg] of o.sources.entries()) {
      const served = await load(arg, prefetched[i]);
      if (fromConfig.has(served.model)) {
        await served.runtime.close();
        throw new CairnError(
          'duplicate-model',
          `${arg} is model ${served.model}, which ${config?.file ?? '--config'} also declares`,
          { hint: 'Serve it from one place: drop the argument or rename it with NAME=SOURCE.' },
        );
      }
      if (repo.all().some((v) => v.model === served.model && v.version === served.version)) {
        await served.runtime.close();
        throw new CairnError(
          'duplicate-model',
          `${arg} is ${served.model} ${served.version} again`,
          {
            hint: 'Name the sources apart with NAME=SOURCE.',
          },
        );
      }
      repo.add(served);
      sources.remember(served.model, served.version, {
        source: splitNamed(arg).source,
        labelled: false,
        declared: false,
      });
    }
  } catch (error) {
    await repo.close();
    await observer.close();
    throw error;
  }
  const listener = createApp({
    repo,
    maxBody: o.maxBody,
    routes: [metricsRoute(metrics), ...ADMIN_ROUTES, ...(o.routes ?? [])],
    ...(o.onError === undefined ? {} : { onError: o.onError }),
  });
  const server = await startServer({ listener, repo, host: o.host, port: o.port }).catch(
    async (error: unknown) => {
      await repo.close();
      await observer.close();
      const code = (error as { code?: string }).code;
      throw new CairnError(
        'listen-failed',
        `cannot listen on ${o.host}:${o.port}: ${code ?? String(error)}`,
        {
          hint: 'Pick another --port (0 picks a free one) or --host.',
          cause: error,
        },
      );
    },
  );
  let grpc: GrpcServer | undefined;
  if (o.grpcPort !== undefined) {
    // grpc-js and the proto loader cost a third of a second: only when asked for.
    const { startGrpcServer } = await import('../serve/grpc.js');
    grpc = await startGrpcServer(inferenceBackend(repo), { host: o.host, port: o.grpcPort }).catch(
      async (error: unknown) => {
        await server.drain(0);
        await observer.close();
        throw new CairnError(
          'listen-failed',
          `cannot serve gRPC on ${o.host}:${o.grpcPort}: ${error instanceof Error ? error.message : String(error)}`,
          { hint: 'Pick another --grpc-port (0 picks a free one).', cause: error },
        );
      },
    );
  }
  const models = repo.all().map((v) => ({
    name: v.model,
    version: v.version,
    digest: v.digest,
    source: sources.origin(v.model, v.version)?.source ?? '',
  }));
  let drained: Promise<DrainResult> | undefined;
  let reloading: Promise<ReloadResult> = Promise.resolve({ traffic: [], loaded: [], unloaded: [] });
  const drain = (timeoutMs: number): Promise<DrainResult> =>
    (drained ??= (async () => {
      const [result] = await Promise.all([server.drain(timeoutMs), grpc?.close(timeoutMs)]);
      await observer.close();
      return result;
    })());
  return {
    host: server.host,
    port: server.port,
    url: server.url,
    models,
    repo,
    metrics,
    ...(grpc === undefined ? {} : { grpcPort: grpc.port }),
    reload: () => {
      // One reload at a time: a second SIGHUP waits for the first.
      reloading = reloading
        .catch(() => undefined)
        .then(async () => {
          const { reloadConfig } = await import('../serve/reload.js');
          return reloadConfig(o.config, ctx.cwd, repo, sources, loadVersion);
        });
      return reloading;
    },
    drain,
    [Symbol.asyncDispose]: async () => {
      await drain(0);
    },
  };
}
