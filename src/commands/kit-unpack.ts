/**
 * `cairn unpack REF -d DIR`: extract a stored ModelKit (or parts of it) into a directory; a
 * reference the local store lacks is unpacked straight from its registry.
 */
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { NotFoundError } from '../oci/local-repo.js';
import { DEFAULT_REGISTRY, parseReference, remoteReference } from '../oci/reference.js';
import { loadStoredModelKit, unpackChain, unpackMaxRatio } from '../modelkit/unpack-chain.js';
import { parseFilter } from '../modelkit/unpack-filter.js';
import type { UnpackResult } from '../modelkit/unpack.js';
import { directIoAllowed } from '../core/direct-io.js';
import type { CommandContext } from './context.js';
import { openStore, withClient, type RemoteFlags, type StoreFlags } from './options.js';

export interface UnpackCommandOptions extends StoreFlags {
  dir: string;
  overwrite: boolean;
  ignoreExisting: boolean;
  filters: string[];
}

export async function kitUnpack(
  ctx: CommandContext,
  reference: string,
  o: UnpackCommandOptions,
): Promise<UnpackResult> {
  if (o.overwrite && o.ignoreExisting) {
    throw new CairnError('bad-flag', '--overwrite and --ignore-existing cannot be used together');
  }
  const filters = o.filters.map(parseFilter);
  const store = await openStore(ctx, o);
  const loaded = await loadStoredModelKit(store, reference);
  return unpackChain({
    store,
    reference,
    loaded,
    dir: path.resolve(ctx.cwd, o.dir),
    overwrite: o.overwrite,
    ignoreExisting: o.ignoreExisting,
    filters,
    sink: ctx.sink,
    maxRatio: unpackMaxRatio(ctx.env),
    loadParent: (parent) => loadStoredModelKit(store, parent),
    directIo: directIoAllowed(ctx.env),
  });
}

/** `unpack REF`: the local store first; a reference naming a registry falls back to it. */
export async function unpackLocalOrRemote(
  ctx: CommandContext,
  reference: string,
  o: UnpackCommandOptions,
  flags: RemoteFlags,
): Promise<UnpackResult> {
  try {
    return await kitUnpack(ctx, reference, o);
  } catch (error) {
    if (
      !(error instanceof NotFoundError) ||
      parseReference(reference).ref.registry === DEFAULT_REGISTRY
    ) {
      throw error;
    }
  }
  const ref = remoteReference(reference, 'unpack');
  const store = await openStore(ctx, flags);
  // Registry code (undici and friends) loads only now: a local unpack never pays for it.
  const { unpackRemote } = await import('../modelkit/remote.js');
  return withClient(ctx, ref, flags, (client) =>
    unpackRemote({
      client,
      ref,
      reference,
      store,
      dir: path.resolve(ctx.cwd, o.dir),
      overwrite: o.overwrite,
      ignoreExisting: o.ignoreExisting,
      filters: o.filters,
      concurrency: flags.concurrency ?? 5,
      sink: ctx.sink,
      maxRatio: unpackMaxRatio(ctx.env),
      directIo: directIoAllowed(ctx.env),
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    }),
  );
}
