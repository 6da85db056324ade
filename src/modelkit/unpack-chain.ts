/**
 * Unpacking a ModelKit whose `model.path` may name a parent ModelKit: loading from the local
 * store, and the guard against cycles and over-long chains that the local and the remote
 * unpack share.
 */
import { CairnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import type { Sha256Digest } from '../oci/digest.js';
import type { LocalStore } from '../oci/layout.js';
import { readManifest, resolveLocal } from '../oci/local-repo.js';
import type { ImageManifest } from '../oci/manifest.js';
import { orLatest, parseReference } from '../oci/reference.js';
import { MAX_MODEL_REF_CHAIN } from './chain.js';
import type { Kitfile } from './kitfile.js';
import { readModelKit } from './read.js';
import type { UnpackFilter } from './unpack-filter.js';
import { unpack, type UnpackResult } from './unpack.js';

/** A ModelKit ready to unpack: its manifest and Kitfile are read, its blobs are in a store. */
export interface LoadedModelKit {
  manifest: ImageManifest;
  digest: Sha256Digest;
  kitfile: Kitfile;
  synthesised: boolean;
}

/** Manifest and Kitfile of a ModelKit in the local store; one without a Kitfile is refused. */
export async function loadStoredModelKit(
  store: LocalStore,
  reference: string,
): Promise<LoadedModelKit> {
  const { ref } = parseReference(reference);
  const { desc } = await resolveLocal(store, ref.digest === undefined ? orLatest(ref) : ref);
  const manifest = await readManifest(store, desc);
  const mk = await readModelKit(store, manifest, desc.digest);
  if (mk.kitfile === undefined)
    throw new CairnError('no-kitfile', `${reference} carries no Kitfile`);
  return { manifest, digest: desc.digest, kitfile: mk.kitfile, synthesised: mk.synthesised };
}

/** `CAIRN_UNPACK_MAX_RATIO`: the gzip-bomb guard's ratio (default 1000). */
export function unpackMaxRatio(env: NodeJS.ProcessEnv): number {
  const ratio = Number(env.CAIRN_UNPACK_MAX_RATIO ?? '1000');
  return Number.isFinite(ratio) && ratio > 0 ? ratio : 1000;
}

export interface ChainUnpackOptions {
  /** where the blobs of `loaded` (and of the parents `loadParent` loads) are */
  store: LocalStore;
  reference: string;
  loaded: LoadedModelKit;
  /** absolute */
  dir: string;
  overwrite: boolean;
  ignoreExisting: boolean;
  filters: UnpackFilter[];
  sink: EventSink;
  maxRatio: number;
  /** large aligned chunks may be written past the page cache (see directIoAllowed) */
  directIo: boolean;
  /** loads the ModelKit a `model.path` names */
  loadParent: (parent: string) => Promise<LoadedModelKit>;
}

/** Unpacks `loaded`, following `model.path` references through `loadParent`, cycles refused. */
export function unpackChain(o: ChainUnpackOptions): Promise<UnpackResult> {
  const seen = new Set<string>([o.reference]);
  return unpack({
    store: o.store,
    ...o.loaded,
    dir: o.dir,
    filters: o.filters,
    overwrite: o.overwrite,
    ignoreExisting: o.ignoreExisting,
    sink: o.sink,
    maxRatio: o.maxRatio,
    directIo: o.directIo,
    resolveParent: async (parent) => {
      if (seen.has(parent) || seen.size > MAX_MODEL_REF_CHAIN) {
        throw new CairnError('ref-cycle', `Found cycle in modelkit references at ${parent}`);
      }
      seen.add(parent);
      return o.loadParent(parent);
    },
  });
}
