/**
 * Push and pull of whole ModelKits between the local store and one registry: the blobs in
 * parallel (`concurrency` at a time, each skipped, mounted, resumed or sent), then the manifest,
 * with progress as events and a report of what happened to every blob.
 */
import type { EventSink } from '../../core/events.js';
import { mapLimit } from '../../core/limit.js';
import type { Sha256Digest } from '../digest.js';
import type { LocalStore } from '../layout.js';
import { readManifest, recordManifest, resolveLocal } from '../local-repo.js';
import type { Descriptor, ImageManifest } from '../manifest.js';
import { MANIFEST_MEDIA_TYPE } from '../media-types.js';
import { formatReference, repositoryOf, type OciReference } from '../reference.js';
import type { RegistryClient } from './client.js';
import { downloadBlob } from './download.js';
import { asModelKit, fetchManifest, headManifest, putManifest } from './manifests.js';
import { mountCandidates, recordOrigins } from './origins.js';
import { blobExists, chunkSizeFor, uploadBlob } from './upload.js';

/** HEAD requests in flight at once when checking what a registry already has */
const HEAD_CONCURRENCY = 16;

export interface BlobReport {
  digest: Sha256Digest;
  mediaType: string;
  /** bytes */
  size: number;
  action: 'present' | 'mounted' | 'uploaded' | 'downloaded';
  /** repository a mounted blob came from */
  mountedFrom?: string;
  /** bytes already transferred by an earlier, interrupted run */
  resumedFrom: number;
  /** bytes moved over the network by this run */
  transferred: number;
}

export interface TransferResult {
  reference: string;
  digest: Sha256Digest;
  /** present: the registry (or store) already had this manifest under the reference */
  manifest: 'present' | 'stored';
  blobs: BlobReport[];
  /** bytes moved over the network by this run */
  bytes: number;
}

export interface TransferOptions {
  store: LocalStore;
  client: RegistryClient;
  concurrency: number;
  sink: EventSink;
  signal?: AbortSignal;
}

/** The distinct blobs a manifest needs: config first, then layers in order. */
export function blobDescriptors(m: ImageManifest): Descriptor[] {
  const seen = new Set<string>();
  return [m.config, ...(m.layers ?? [])].filter((d) => !seen.has(d.digest) && seen.add(d.digest));
}

/** The summary line (blobs and bytes) and a bar per blob in flight. */
function progress(sink: EventSink, phase: string, blobs: readonly Descriptor[]) {
  const totalBytes = blobs.reduce((s, d) => s + d.size, 0);
  let bytes = 0;
  let done = 0;
  const emit = (): void => {
    sink({ type: 'progress', phase, done, total: blobs.length, bytes, totalBytes });
  };
  return {
    /** the byte counter of one blob's transfer */
    blob: (d: Descriptor) => {
      let mine = 0;
      const { mediaType } = d;
      return {
        bytes: (n: number): void => {
          bytes += n;
          mine += n;
          sink({
            type: 'transfer',
            id: d.digest,
            mediaType,
            bytes: mine,
            total: d.size,
            done: false,
          });
          emit();
        },
        done: (): void => {
          done++;
          sink({
            type: 'transfer',
            id: d.digest,
            mediaType,
            bytes: mine,
            total: d.size,
            done: true,
          });
          emit();
        },
      };
    },
  };
}

export interface PushOptions extends TransferOptions {
  /** a ModelKit in the local store */
  source: OciReference;
  /** where it goes (repository and tag, or just the digest) */
  dest: OciReference;
  /** PATCH chunk size for large blobs; default per registry (0 = monolithic) */
  chunkSize?: number;
}

export async function push(o: PushOptions): Promise<TransferResult> {
  const { store, client, dest } = o;
  const { desc } = await resolveLocal(o.store, o.source);
  const manifestBytes = await store.readBlob(desc.digest, desc.size);
  const manifest = await readManifest(store, desc);
  const blobs = blobDescriptors(manifest);
  // A registry accepts a manifest only when it has all its blobs, and keeps the blobs of a tagged
  // manifest: when the tag already holds this manifest there is nothing to send (oras-go's Copy,
  // and so kit, stop there too). A no-op push is then a single HEAD.
  const at = await headManifest(client, dest);
  const upToDate = at?.digest === desc.digest;
  const candidates = await mountCandidates(store, client.registry, dest.repository);
  const bar = progress(o.sink, `push ${formatReference(dest)}`, blobs);
  const chunkSize = o.chunkSize ?? chunkSizeFor(client.registry);
  // Existence first, many at once (HEADs are cheap); then the uploads, `concurrency` at a time.
  const present = upToDate
    ? blobs.map(() => true)
    : await mapLimit(blobs, Math.max(HEAD_CONCURRENCY, o.concurrency), (d) =>
        blobExists(client, dest.repository, d.digest),
      );
  const missing = new Set(blobs.filter((_, i) => present[i] !== true).map((d) => d.digest));
  const reports = await mapLimit(blobs, o.concurrency, async (d): Promise<BlobReport> => {
    const one = bar.blob(d);
    if (!missing.has(d.digest)) {
      one.done();
      return {
        digest: d.digest,
        mediaType: d.mediaType,
        size: d.size,
        action: 'present',
        resumedFrom: 0,
        transferred: 0,
      };
    }
    const r = await uploadBlob(client, store, dest.repository, d, {
      missing: true,
      mountFrom: candidates(d.digest),
      chunkSize,
      onBytes: one.bytes,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    one.done();
    if (r.action !== 'present') {
      o.sink({
        type: 'layer-uploaded',
        digest: d.digest,
        size: d.size,
        how: r.action,
        ...(r.mountedFrom === undefined ? {} : { mountedFrom: r.mountedFrom }),
      });
    }
    return {
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
      action: r.action,
      ...(r.mountedFrom === undefined ? {} : { mountedFrom: r.mountedFrom }),
      resumedFrom: r.resumedFrom,
      transferred: r.sent,
    };
  });
  let state: TransferResult['manifest'] = 'present';
  if (!upToDate) {
    await putManifest(client, dest, manifestBytes, manifest.mediaType ?? MANIFEST_MEDIA_TYPE);
    state = 'stored';
  }
  await recordOrigins(
    store,
    repositoryOf(dest),
    blobs.map((b) => b.digest),
  );
  return {
    reference: formatReference(dest),
    digest: desc.digest,
    manifest: state,
    blobs: reports,
    bytes:
      reports.reduce((s, r) => s + r.transferred, 0) +
      (state === 'stored' ? manifestBytes.length : 0),
  };
}

export interface PullOptions extends TransferOptions {
  ref: OciReference;
}

export async function pull(o: PullOptions): Promise<TransferResult> {
  const { store, client, ref } = o;
  const fetched = await fetchManifest(client, ref);
  const manifest = asModelKit(ref, fetched);
  const blobs = blobDescriptors(manifest);
  await using _lock = await store.lock();
  const bar = progress(o.sink, `pull ${formatReference(ref)}`, blobs);
  const reports = await mapLimit(blobs, o.concurrency, async (d): Promise<BlobReport> => {
    const one = bar.blob(d);
    const r = await downloadBlob(client, store, ref.repository, d, one.bytes, o.signal);
    one.done();
    if (r.action === 'downloaded') {
      o.sink({
        type: 'layer-downloaded',
        digest: d.digest,
        size: d.size,
        resumedFrom: r.resumedFrom,
      });
    }
    return {
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
      action: r.action,
      resumedFrom: r.resumedFrom,
      transferred: r.received,
    };
  });
  const had = await store.hasBlob(fetched.digest);
  await store.putBlob(fetched.bytes);
  const desc: Descriptor = {
    mediaType: MANIFEST_MEDIA_TYPE,
    digest: fetched.digest,
    size: fetched.bytes.length,
  };
  await recordManifest(store, desc, [ref]);
  await recordOrigins(
    store,
    repositoryOf(ref),
    blobs.map((b) => b.digest),
  );
  return {
    reference: formatReference(ref),
    digest: fetched.digest,
    manifest: had ? 'present' : 'stored',
    blobs: reports,
    bytes: reports.reduce((s, r) => s + r.transferred, 0) + fetched.bytes.length,
  };
}
