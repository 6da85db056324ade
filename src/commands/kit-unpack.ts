/** `cairn unpack REF -d DIR`: extract a stored ModelKit (or parts of it) into a directory. */
import path from 'node:path';
import { NotFoundError, readManifest, resolveLocal } from '../oci/local-repo.js';
import { DEFAULT_REGISTRY, orLatest, parseReference } from '../oci/reference.js';
import { readModelKit } from '../modelkit/read.js';
import { unpack, type UnpackResult } from '../modelkit/unpack.js';
import { parseFilter, type UnpackFilter } from '../modelkit/unpack-filter.js';
import { CairnError } from '../core/errors.js';
import { directIoAllowed } from '../core/direct-io.js';
import type { CommandContext } from './context.js';
import { openStore, formatSize, type StoreFlags } from './kit.js';
import type { LocalStore } from '../oci/layout.js';
import { MAX_MODEL_REF_CHAIN } from '../modelkit/chain.js';
import type { RemoteFlags } from './remote.js';
import type { RemoteUnpackOptions } from './remote-unpack.js';

export interface UnpackCommandOptions extends StoreFlags {
  dir: string;
  overwrite: boolean;
  ignoreExisting: boolean;
  filters: string[];
}

async function loadForUnpack(store: LocalStore, reference: string) {
  const { ref } = parseReference(reference);
  const { desc } = await resolveLocal(store, ref.digest === undefined ? orLatest(ref) : ref);
  const manifest = await readManifest(store, desc);
  const mk = await readModelKit(store, manifest, desc.digest);
  if (mk.kitfile === undefined)
    throw new CairnError('no-kitfile', `${reference} carries no Kitfile`);
  return { manifest, digest: desc.digest, kitfile: mk.kitfile, synthesised: mk.synthesised };
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
  const loaded = await loadForUnpack(store, reference);
  return unpackLoaded(ctx, store, reference, loaded, o, filters, (parent) =>
    loadForUnpack(store, parent),
  );
}

/**
 * Unpacks a ModelKit whose manifest and Kitfile are loaded and whose selected blobs are in
 * `store`; `loadParent` loads a ModelKit named by `model.path`, guarded here against cycles
 * and over-long chains. Shared by the local and the remote unpack.
 */
export function unpackLoaded(
  ctx: CommandContext,
  store: LocalStore,
  reference: string,
  loaded: Awaited<ReturnType<typeof loadForUnpack>>,
  o: Pick<UnpackCommandOptions, 'dir' | 'overwrite' | 'ignoreExisting'>,
  filters: UnpackFilter[],
  loadParent: (parent: string) => ReturnType<typeof loadForUnpack>,
): Promise<UnpackResult> {
  const ratio = Number(ctx.env.CAIRN_UNPACK_MAX_RATIO ?? '1000');
  const seen = new Set<string>([reference]);
  return unpack({
    store,
    ...loaded,
    dir: path.resolve(ctx.cwd, o.dir),
    filters,
    overwrite: o.overwrite,
    ignoreExisting: o.ignoreExisting,
    sink: ctx.sink,
    maxRatio: Number.isFinite(ratio) && ratio > 0 ? ratio : 1000,
    directIo: directIoAllowed(ctx.env),
    resolveParent: async (parent) => {
      if (seen.has(parent) || seen.size > MAX_MODEL_REF_CHAIN) {
        throw new CairnError('ref-cycle', `Found cycle in modelkit references at ${parent}`);
      }
      seen.add(parent);
      return loadParent(parent);
    },
  });
}

export function formatUnpack(r: UnpackResult): string {
  const lines = r.layers.map(
    (l) =>
      `Unpacked ${l.type} ${l.path} (${l.files} file(s), ${formatSize(l.bytes)}${l.skippedExisting > 0 ? `, ${l.skippedExisting} existing kept` : ''})`,
  );
  if (r.kitfile === 'written') lines.push('Wrote Kitfile');
  lines.push(`Unpacked to ${r.dir}`);
  return lines.join('\n');
}

/** `unpack REF`: the local store first; a reference naming a registry falls back to it. */
export async function unpackLocalOrRemote(
  ctx: CommandContext,
  reference: string,
  o: RemoteUnpackOptions & { kitops: boolean },
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
  if (o.overwrite && o.ignoreExisting) {
    throw new CairnError('bad-flag', '--overwrite and --ignore-existing cannot be used together');
  }
  // Registry code (undici and friends) loads only now: a local unpack never pays for it.
  const { remoteUnpack } = await import('./remote-unpack.js');
  return remoteUnpack(ctx, reference, o, flags);
}
