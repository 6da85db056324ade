/** The registry commands: push, pull, and list/info/inspect/rm of a remote ModelKit. */
import { CairnError } from '../core/errors.js';
import type { Sha256Digest } from '../oci/digest.js';
import { registryAuthorizer } from '../oci/registry/auth.js';
import { RegistryClient } from '../oci/registry/client.js';
import type { RegistryOptions } from '../oci/registry/types.js';
import type { TransferResult } from '../oci/registry/transfer.js';
import {
  DEFAULT_REGISTRY,
  formatReference,
  isModelKitReference,
  orLatest,
  parseReference,
  withDigest,
  type OciReference,
} from '../oci/reference.js';
import type { CommandContext } from './context.js';
import { openStore, type StoreFlags } from './kit.js';
import { registryOptions, type RegistryFlags } from './registry-flags.js';

export interface RemoteFlags extends RegistryFlags, StoreFlags {}

/** A reference that must name a registry (push, pull and remote commands). */
export function remoteReference(input: string, what: string): OciReference {
  const { ref, extraTags } = parseReference(input);
  if (ref.registry === DEFAULT_REGISTRY) {
    throw new CairnError('registry-required', `${what} ${input}: registry is required`, {
      hint: 'Name the registry, e.g. registry.example.com/org/model:v1 (localhost means the local store).',
    });
  }
  if (extraTags.length > 0) {
    throw new CairnError('bad-reference', `${what} ${input}: give one tag`, {
      hint: 'Push or pull one reference at a time.',
    });
  }
  return ref.digest === undefined ? orLatest(ref) : ref;
}

/** A client for the registry of `ref`, with the flags' transport settings. */
export function clientFor(
  ctx: CommandContext,
  ref: OciReference,
  flags: RegistryFlags,
): RegistryClient {
  const options: RegistryOptions = registryOptions(flags, ctx.env);
  return new RegistryClient(ref.registry, options, {
    authorizer: (dispatcher) => registryAuthorizer(ref.registry, options, dispatcher),
  });
}

export async function pushCommand(
  ctx: CommandContext,
  source: string,
  destination: string | undefined,
  flags: RemoteFlags,
) {
  const src = parseReference(source).ref;
  const dest = remoteReference(destination ?? source, 'push');
  const store = await openStore(ctx, flags);
  const client = clientFor(ctx, dest, flags);
  try {
    const { push } = await import('../oci/registry/transfer.js');
    return await push({
      store,
      client,
      source: src.digest === undefined ? orLatest(src) : src,
      dest,
      concurrency: flags.concurrency ?? 5,
      sink: ctx.sink,
      ...chunkSizeFromEnv(ctx.env),
    });
  } finally {
    await client.close();
  }
}

/** `CAIRN_PUSH_CHUNK_SIZE` (bytes; 0 = one PUT per blob) overrides the per-registry default. */
function chunkSizeFromEnv(env: NodeJS.ProcessEnv): { chunkSize?: number } {
  const raw = env.CAIRN_PUSH_CHUNK_SIZE;
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CairnError('bad-env', `CAIRN_PUSH_CHUNK_SIZE=${raw} is not a byte count`, {
      hint: 'Set it to a whole number of bytes, or 0 for one PUT per blob.',
    });
  }
  return { chunkSize: n };
}

/**
 * `pull REF`: the ModelKit, then the ModelKits its `model.path` refers to (kit pulls parents
 * too), up to the chain limit; a cycle stops with an error.
 */
export async function pullCommand(ctx: CommandContext, reference: string, flags: RemoteFlags) {
  const { pull } = await import('../oci/registry/transfer.js');
  const { parseManifest } = await import('../oci/manifest.js');
  const { kitfileFromConfigJson } = await import('../modelkit/kitfile.js');
  const { modelKitFormat } = await import('../modelkit/read.js');
  const { MAX_MODEL_REF_CHAIN } = await import('../modelkit/chain.js');
  const store = await openStore(ctx, flags);
  const results: TransferResult[] = [];
  const seen: string[] = [];
  let next: string | undefined = reference;
  while (next !== undefined) {
    const ref = remoteReference(next, 'pull');
    const key = formatReference(ref);
    if (seen.includes(key) || seen.length >= MAX_MODEL_REF_CHAIN) {
      throw new CairnError(
        'ref-cycle',
        `the chain of ModelKit references ${[...seen, key].join(' -> ')} ${seen.includes(key) ? 'has a cycle' : `is longer than ${MAX_MODEL_REF_CHAIN}`}`,
        { hint: 'What was pulled so far is stored; fix the model.path of the last ModelKit.' },
      );
    }
    seen.push(key);
    const client = clientFor(ctx, ref, flags);
    try {
      const concurrency = flags.concurrency ?? 5;
      results.push(await pull({ store, client, ref, concurrency, sink: ctx.sink }));
    } finally {
      await client.close();
    }
    // The parent, when model.path names a ModelKit on a registry.
    const last = results[results.length - 1];
    if (last === undefined) break;
    const manifest = parseManifest(
      (await store.readBlob(last.digest)).toString('utf8'),
      `manifest ${last.digest}`,
    );
    next = undefined;
    if (modelKitFormat(manifest) === 'kit') {
      const config = await store.readBlob(manifest.config.digest, manifest.config.size);
      const parent = kitfileFromConfigJson(
        config.toString('utf8'),
        `config ${manifest.config.digest}`,
      ).model?.path;
      if (parent !== undefined && isModelKitReference(parent)) {
        next = parseReference(parent).ref.registry === DEFAULT_REGISTRY ? undefined : parent;
      }
    }
  }
  const [first, ...parents] = results;
  if (first === undefined) throw new Error('Internal error: nothing was pulled');
  return { ...first, parents };
}

export function formatTransfer(
  verb: 'Pushed' | 'Pulled',
  r: {
    reference: string;
    digest: Sha256Digest;
    manifest: string;
    blobs: { action: string }[];
    bytes: number;
    parents?: TransferResult[];
  },
): string {
  const count = (a: string): number => r.blobs.filter((b) => b.action === a).length;
  const parts =
    verb === 'Pushed'
      ? [
          `${count('uploaded')} uploaded`,
          `${count('mounted')} mounted`,
          `${count('present')} already there`,
        ]
      : [`${count('downloaded')} downloaded`, `${count('present')} already stored`];
  const noop = verb === 'Pushed' && r.manifest === 'present' && count('present') === r.blobs.length;
  const line = noop
    ? `${r.reference} is up to date (${r.digest})`
    : `${verb} ${r.reference} (${r.digest}): ${parts.join(', ')}`;
  return [line, ...(r.parents ?? []).map((p) => formatTransfer(verb, p))].join('\n');
}

export { formatReference, withDigest };
