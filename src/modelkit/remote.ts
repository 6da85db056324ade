/**
 * ModelKits on a registry: read without storing (manifest and Kitfile), pulled with the parents
 * their `model.path` names, and unpacked through a temp store holding only the selected layers.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { tempSibling } from '../core/fs.js';
import type { Sha256Digest } from '../oci/digest.js';
import { LocalStore } from '../oci/layout.js';
import { parseManifest, type ImageManifest } from '../oci/manifest.js';
import { ANNOTATION_KITFILE } from '../oci/media-types.js';
import {
  DEFAULT_REGISTRY,
  formatReference,
  isModelKitReference,
  parseReference,
  remoteReference,
  type OciReference,
} from '../oci/reference.js';
import type { RegistryClient } from '../oci/registry/client.js';
import { downloadBlob } from '../oci/registry/download.js';
import {
  asModelKit,
  fetchManifest,
  fetchSmallBlob,
  MAX_MANIFEST_BYTES,
} from '../oci/registry/manifests.js';
import { mapLimit } from '../core/limit.js';
import { pull, type TransferResult } from '../oci/registry/transfer.js';
import { MAX_MODEL_REF_CHAIN } from './chain.js';
import { kitfileFromConfigJson, type Kitfile } from './kitfile.js';
import { modelKitFormat, NotAModelKitError, synthesiseKitfile } from './read.js';
import { parseFilter, selected, type UnpackFilter } from './unpack-filter.js';
import { pairLayers, type UnpackResult } from './unpack.js';
import { unpackChain, type LoadedModelKit } from './unpack-chain.js';

export interface RemoteKit {
  ref: OciReference;
  digest: Sha256Digest;
  manifest: ImageManifest;
  kitfile: Kitfile | undefined;
  synthesised: boolean;
  /** the config blob's bytes (verified) */
  config: Buffer;
}

/** Manifest and Kitfile of a remote ModelKit (the config is fetched, verified, not stored). */
export async function fetchRemoteKit(
  client: RegistryClient,
  ref: OciReference,
): Promise<RemoteKit> {
  const fetched = await fetchManifest(client, ref);
  const manifest = asModelKit(ref, fetched);
  const format = modelKitFormat(manifest);
  const { config } = manifest;
  if (config.size > MAX_MANIFEST_BYTES) {
    throw new NotAModelKitError(
      'config-too-large',
      `${formatReference(ref)}: the config is ${config.size} bytes; refusing more than ${MAX_MANIFEST_BYTES}`,
    );
  }
  const bytes = await fetchSmallBlob(client, ref.repository, config.digest, config.size);
  const text = bytes.toString('utf8');
  const base = { ref, digest: fetched.digest, manifest, config: bytes };
  if (format === 'kit') {
    return {
      ...base,
      kitfile: kitfileFromConfigJson(text, `config ${config.digest}`),
      synthesised: false,
    };
  }
  const annotated = manifest.annotations?.[ANNOTATION_KITFILE];
  if (annotated !== undefined) {
    return {
      ...base,
      kitfile: kitfileFromConfigJson(annotated, `manifest ${fetched.digest}`),
      synthesised: false,
    };
  }
  return { ...base, kitfile: synthesiseKitfile(manifest, text, fetched.digest), synthesised: true };
}

export interface PullChainOptions {
  store: LocalStore;
  reference: string;
  /** a client for a reference's registry; closed here after its pull */
  connect: (ref: OciReference) => Promise<RegistryClient>;
  concurrency: number;
  sink: EventSink;
  signal?: AbortSignal;
}

/**
 * `pull REF`: the ModelKit, then the ModelKits its `model.path` refers to (kit pulls parents
 * too), up to the chain limit; a cycle stops with an error. Returns the first transfer with
 * its parents'.
 */
export async function pullChain(
  o: PullChainOptions,
): Promise<TransferResult & { parents: TransferResult[] }> {
  const { store } = o;
  const results: TransferResult[] = [];
  const seen: string[] = [];
  let next: string | undefined = o.reference;
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
    const client = await o.connect(ref);
    try {
      results.push(
        await pull({
          store,
          client,
          ref,
          concurrency: o.concurrency,
          sink: o.sink,
          ...(o.signal === undefined ? {} : { signal: o.signal }),
        }),
      );
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

export interface RemoteUnpackOptions {
  client: RegistryClient;
  ref: OciReference;
  /** as the user gave it (cycle detection compares these) */
  reference: string;
  /** the local store; the temp store lives under its `ingest/` */
  store: LocalStore;
  /** absolute */
  dir: string;
  overwrite: boolean;
  ignoreExisting: boolean;
  filters: readonly string[];
  concurrency: number;
  sink: EventSink;
  maxRatio: number;
  /** large aligned chunks may be written past the page cache (see directIoAllowed) */
  directIo: boolean;
  signal?: AbortSignal;
}

/**
 * Unpacks a ModelKit from the registry: the config and the selected layers are downloaded into
 * a temp store under `ingest/` (swept if this process dies), unpacked, and deleted.
 */
export async function unpackRemote(o: RemoteUnpackOptions): Promise<UnpackResult> {
  const { client } = o;
  const filters = o.filters.map(parseFilter);
  const tmpRoot = tempSibling(path.join(o.store.root, 'ingest', 'unpack'));
  const tmp = await LocalStore.open(tmpRoot);
  try {
    const fetchInto = async (
      r: OciReference,
      f: readonly UnpackFilter[],
    ): Promise<LoadedModelKit> => {
      const kit = await fetchRemoteKit(client, r);
      if (kit.kitfile === undefined)
        throw new CairnError('no-kitfile', `${formatReference(r)} carries no Kitfile`);
      const wanted = pairLayers(kit.manifest, kit.kitfile, kit.digest)
        .filter((p) => selected(f, p.section, p.entry))
        .map((p) => p.layer);
      await tmp.putBlob(kit.config);
      const blobs = wanted.filter((d, i, all) => all.findIndex((x) => x.digest === d.digest) === i);
      await mapLimit(blobs, o.concurrency, (d) =>
        downloadBlob(client, tmp, r.repository, d, undefined, o.signal),
      );
      return {
        manifest: kit.manifest,
        digest: kit.digest,
        kitfile: kit.kitfile,
        synthesised: kit.synthesised,
      };
    };
    const loaded = await fetchInto(o.ref, filters);
    return await unpackChain({
      store: tmp,
      reference: o.reference,
      loaded,
      dir: o.dir,
      overwrite: o.overwrite,
      ignoreExisting: o.ignoreExisting,
      filters,
      sink: o.sink,
      maxRatio: o.maxRatio,
      directIo: o.directIo,
      loadParent: (parent) =>
        fetchInto(remoteReference(parent, 'unpack'), [{ types: new Set(['model']), ids: [] }]),
    });
  } finally {
    await fsp.rm(tmpRoot, { recursive: true, force: true });
  }
}
