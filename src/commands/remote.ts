/** The registry commands: push, pull, and list/info/inspect/rm of a remote ModelKit. */
import { CairnError } from '../core/errors.js';
import type { Sha256Digest } from '../oci/digest.js';
import { registryAuthorizer } from '../oci/registry/auth.js';
import { RegistryClient } from '../oci/registry/client.js';
import type { RegistryOptions } from '../oci/registry/types.js';
import {
  DEFAULT_REGISTRY,
  formatReference,
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

export async function pullCommand(ctx: CommandContext, reference: string, flags: RemoteFlags) {
  const ref = remoteReference(reference, 'pull');
  const store = await openStore(ctx, flags);
  const client = clientFor(ctx, ref, flags);
  try {
    const { pull } = await import('../oci/registry/transfer.js');
    return await pull({ store, client, ref, concurrency: flags.concurrency ?? 5, sink: ctx.sink });
  } finally {
    await client.close();
  }
}

export function formatTransfer(
  verb: 'Pushed' | 'Pulled',
  r: {
    reference: string;
    digest: Sha256Digest;
    manifest: string;
    blobs: { action: string }[];
    bytes: number;
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
  return noop
    ? `${r.reference} is up to date (${r.digest})`
    : `${verb} ${r.reference} (${r.digest}): ${parts.join(', ')}`;
}

export { formatReference, withDigest };
