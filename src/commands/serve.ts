/**
 * `cairn serve SOURCE...`: resolves each source, creates one ONNX Runtime session per model
 * version, and starts the Open Inference Protocol server. Returns a handle (port, models,
 * drain); the CLI prints the listening line and drains on SIGTERM.
 */
import { directIoAllowed } from '../core/direct-io.js';
import { CairnError } from '../core/errors.js';
import { pullChain } from '../modelkit/remote.js';
import { loadStoredModelKit, unpackChain, unpackMaxRatio } from '../modelkit/unpack-chain.js';
import { parseFilter } from '../modelkit/unpack-filter.js';
import type { CommandContext } from './context.js';
import { clientFor, openStore, type RemoteFlags } from './options.js';
import { createApp } from '../serve/http.js';
import { createOnnxRuntime, preloadOnnxRuntime } from '../serve/onnx-runtime.js';
import { ModelRepository } from '../serve/repository.js';
import type { Route } from '../serve/routes.js';
import { startServer, type DrainResult } from '../serve/server.js';
import { resolveSource, splitNamed, type ModelKitAccess } from '../serve/source.js';
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
  drain(timeoutMs: number): Promise<DrainResult>;
}

/** `30s`, `500ms`, `2m` or a bare number of seconds, as milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (m?.[1] === undefined)
    throw new CairnError('bad-flag', `${text} is not a duration`, {
      hint: 'Write it like 30s, 500ms or 2m.',
    });
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

/** The local store, `cairn pull` and `cairn unpack` as the source resolver needs them. */
function modelKitAccess(ctx: CommandContext, o: RemoteFlags): ModelKitAccess {
  const store = () => openStore(ctx, o);
  return {
    cwd: ctx.cwd,
    openStore: store,
    async pull(reference) {
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

export async function serve(ctx: CommandContext, o: ServeOptions): Promise<ServeHandle> {
  const access = modelKitAccess(ctx, o);
  if (o.sources.length === 0)
    throw new CairnError('no-source', 'nothing to serve', {
      hint: 'Name an .onnx file, a folder with a Kitfile, or a ModelKit reference.',
    });
  preloadOnnxRuntime();
  const origins = new Map<string, string>();
  const load = async (arg: string): Promise<ServedVersion> => {
    const source = await resolveSource(access, arg);
    const runtime = await createOnnxRuntime({
      bytes: source.bytes,
      file: source.file,
      ...(o.threads === undefined ? {} : { threads: o.threads }),
    });
    origins.set(source.name, splitNamed(arg).source);
    return { model: source.name, version: source.version, digest: source.digest, runtime };
  };
  const repo = new ModelRepository(async (name, source) => {
    const from = source ?? origins.get(name);
    if (from === undefined)
      throw new CairnError('unknown-model', `model "${name}" has no source to load it from`, {
        hint: 'Give one in the body: {"parameters": {"source": "model.onnx"}}.',
      });
    return load(`${name}=${from}`);
  });
  try {
    // One at a time: each session already uses every core.
    for (const arg of o.sources) {
      const served = await load(arg);
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
    }
  } catch (error) {
    await repo.close();
    throw error;
  }
  const listener = createApp({
    repo,
    maxBody: o.maxBody,
    ...(o.routes === undefined ? {} : { routes: o.routes }),
    ...(o.onError === undefined ? {} : { onError: o.onError }),
  });
  const server = await startServer({ listener, repo, host: o.host, port: o.port }).catch(
    async (error: unknown) => {
      await repo.close();
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
  const models = repo.all().map((v) => ({
    name: v.model,
    version: v.version,
    digest: v.digest,
    source: origins.get(v.model) ?? '',
  }));
  return {
    host: server.host,
    port: server.port,
    url: server.url,
    models,
    repo,
    drain: (timeoutMs) => server.drain(timeoutMs),
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}
