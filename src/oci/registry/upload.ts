/**
 * Blob uploads from the store: HEAD first, then a cross-repository mount when another
 * repository on the registry is known to hold the blob, else a monolithic PUT or PATCH chunks
 * then a closing PUT. An interrupted upload asks the registry for its offset (GET on the newest
 * Location) and continues from there; the session is also kept in `ingest/<hex>.upload`, so a
 * push killed mid-blob resumes where the registry stopped. The local bytes are hashed as they
 * are sent and the closing request is withheld unless they match the digest.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CairnError, DigestMismatchError } from '../../core/errors.js';
import { Sha256Counter, type Sha256Digest } from '../digest.js';
import type { LocalStore } from '../layout.js';
import type { Descriptor } from '../manifest.js';
import { resolveLocation, type RegistryClient } from './client.js';
import { RegistryError, isTransportFailure } from './errors.js';
import { backoffMs, transientStatus } from './retry.js';
import { pushScope } from './manifests.js';
import {
  readSession,
  saveSession,
  sessionPath,
  startSession,
  tryMount,
  uploadOffset,
} from './upload-session.js';

const READ_CHUNK = 4 * 1024 * 1024;

export type UploadAction = 'present' | 'mounted' | 'uploaded';

export interface UploadResult {
  digest: Sha256Digest;
  size: number;
  action: UploadAction;
  /** the repository it was mounted from */
  mountedFrom?: string;
  /** bytes sent over the network */
  sent: number;
  /** offset an earlier, interrupted upload session had reached */
  resumedFrom: number;
}

export interface UploadOptions {
  /** other repositories on the same registry known to hold the blob */
  mountFrom: readonly string[];
  /** blobs larger than this go in PATCH chunks of this size (0: always monolithic) */
  chunkSize: number;
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
  /** the caller's HEAD already found the blob missing */
  missing?: boolean;
}

/** Registries that mishandle chunked uploads get one PUT (kit's list). */
export function monolithicOnly(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').toLowerCase();
  return (
    host === 'ghcr.io' ||
    host === 'gcr.io' ||
    host.endsWith('.gcr.io') ||
    host.endsWith('.pkg.dev') ||
    /\.amazonaws\.com(\.cn)?$/.test(host)
  );
}

/** Default chunk size for a registry: 0 (monolithic) for the quirky ones, else 64 MiB. */
export function chunkSizeFor(registry: string): number {
  return monolithicOnly(registry) ? 0 : 64 * 1024 * 1024;
}

/** True when the registry already has the blob in `repository`. */
export async function blobExists(
  client: RegistryClient,
  repository: string,
  digest: Sha256Digest,
): Promise<boolean> {
  const res = await client.send({
    method: 'HEAD',
    url: client.url(repository, `blobs/${digest}`),
    scopes: [pushScope(repository)],
    ok: [200, 404],
    retry: true,
  });
  await res.body.dump();
  return res.status === 200;
}

export async function uploadBlob(
  client: RegistryClient,
  store: LocalStore,
  repository: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  o: UploadOptions,
): Promise<UploadResult> {
  const { digest, size } = desc;
  const base = { digest, size, sent: 0, resumedFrom: 0 };
  if (o.missing !== true && (await blobExists(client, repository, digest))) {
    return { ...base, action: 'present' };
  }
  const file = store.blobPath(digest);
  const st = await fsp.stat(file).catch(() => undefined);
  if (st?.size !== size) {
    throw new CairnError(
      'blob-missing',
      `blob ${digest} is ${st === undefined ? 'missing from' : `${st.size} bytes, not ${size}, in`} the store ${store.root}`,
      {
        hint: 'The local ModelKit is incomplete: pack or pull it again, then push.',
      },
    );
  }
  const sessionFile = sessionPath(store, digest);
  let location: string | undefined;
  let offset = 0;
  for (const from of o.mountFrom) {
    const mounted = await tryMount(client, repository, digest, from);
    if (mounted.mounted) return { ...base, action: 'mounted', mountedFrom: from };
    location = mounted.location;
    break;
  }
  if (location === undefined) {
    const saved = await readSession(sessionFile, client.registry, repository);
    const at = saved === undefined ? undefined : await uploadOffset(client, repository, saved);
    if (saved !== undefined && at !== undefined && at <= size) {
      location = saved;
      offset = at;
      base.resumedFrom = at;
    }
  }
  const sent = { n: 0 };
  const onBytes = (n: number): void => {
    sent.n += n;
    o.onBytes?.(n);
  };
  if (offset > 0) o.onBytes?.(offset);
  for (let attempt = 0; ; attempt++) {
    try {
      location ??= await startSession(client, repository);
      await saveSession(sessionFile, client.registry, repository, location);
      await sendFrom(client, repository, file, desc, location, offset, o, onBytes, async (loc) => {
        location = loc;
        await saveSession(sessionFile, client.registry, repository, loc);
      });
      await fsp.rm(sessionFile, { force: true });
      return { ...base, action: 'uploaded', sent: sent.n };
    } catch (error) {
      const transient =
        isTransportFailure(error) ||
        (error instanceof RegistryError && transientStatus(error.status));
      if (!transient || attempt >= client.retry.retries) throw error;
      await sleep(backoffMs(attempt, client.retry), undefined, { signal: o.signal });
      // Ask the registry how far it got; a lost session starts again from byte 0.
      const at =
        location === undefined
          ? undefined
          : await uploadOffset(client, repository, location).catch(() => undefined);
      if (at === undefined) {
        location = undefined;
        offset = 0;
      } else {
        offset = at;
      }
    }
  }
}

/** Streams bytes [start, end) of a file, hashing them into `hash`. */
async function* fileRange(
  file: string,
  start: number,
  end: number,
  hash: Sha256Counter,
  onBytes: (n: number) => void,
  final?: { digest: Sha256Digest; url: string },
): AsyncGenerator<Buffer> {
  // An empty range (an empty blob) reads nothing; createReadStream cannot express it.
  const stream: Iterable<Buffer> | AsyncIterable<Buffer> =
    end > start
      ? (fs.createReadStream(file, {
          start,
          end: end - 1,
          highWaterMark: READ_CHUNK,
        }) as AsyncIterable<Buffer>)
      : [];
  let held: Buffer | undefined;
  for await (const chunk of stream) {
    hash.update(chunk);
    if (held !== undefined) {
      onBytes(held.length);
      yield held;
    }
    held = chunk;
  }
  // The closing bytes go out only if everything sent is the blob it claims to be.
  if (final !== undefined) checkDigest(hash, final.digest, file);
  if (held !== undefined) {
    onBytes(held.length);
    yield held;
  }
}

function checkDigest(hash: Sha256Counter, digest: Sha256Digest, file: string): void {
  const actual = hash.digest();
  if (actual !== digest) {
    throw new DigestMismatchError(`local blob ${file}`, digest, actual, {
      hint: 'The local store is corrupt: remove the ModelKit (`cairn rm`) and pack or pull it again.',
    });
  }
}

/** Hashes the prefix of a file that an earlier session already sent. */
async function hashPrefix(file: string, n: number, hash: Sha256Counter): Promise<void> {
  if (n === 0) return;
  for await (const chunk of fs.createReadStream(file, {
    start: 0,
    end: n - 1,
    highWaterMark: READ_CHUNK,
  }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
  }
}

async function sendFrom(
  client: RegistryClient,
  repository: string,
  file: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  start: string,
  offset: number,
  o: UploadOptions,
  onBytes: (n: number) => void,
  moved: (location: string) => Promise<void>,
): Promise<void> {
  const { digest, size } = desc;
  const hash = new Sha256Counter();
  await hashPrefix(file, offset, hash);
  const scopes = [pushScope(repository)];
  const close = (loc: string): string => {
    const u = new URL(loc);
    u.searchParams.set('digest', digest);
    return u.toString();
  };
  let location = start;
  const chunked = o.chunkSize > 0 && size > o.chunkSize;
  if (!chunked) {
    // One PUT carrying the rest of the blob (the whole blob, unless a session resumed).
    const res = await client.send({
      method: 'PUT',
      url: close(location),
      scopes,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(size - offset),
      },
      body: () => fileRange(file, offset, size, hash, onBytes, { digest, url: location }),
      ok: [200, 201, 204],
    });
    await res.body.dump();
    confirm(res.headers['docker-content-digest'], digest, res.url);
    return;
  }
  let pos = offset;
  while (pos < size) {
    const end = Math.min(size, pos + o.chunkSize);
    const res = await client.send({
      method: 'PATCH',
      url: location,
      scopes,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(end - pos),
        'content-range': `${pos}-${end - 1}`,
      },
      body: () => fileRange(file, pos, end, hash, onBytes),
      ok: [202, 204],
    });
    await res.body.dump();
    location = resolveLocation(res, `the upload of ${digest}`);
    await moved(location);
    const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.range ?? '');
    if (range?.[1] !== undefined && Number(range[1]) !== end - 1) {
      throw new CairnError(
        'upload-offset',
        `PATCH ${res.url}: the registry holds bytes 0-${range[1]} of ${digest}, expected 0-${end - 1}`,
        { hint: 'The registry lost part of the upload; push again to start it over.' },
      );
    }
    pos = end;
  }
  checkDigest(hash, digest, file);
  const res = await client.send({
    method: 'PUT',
    url: close(location),
    scopes,
    headers: { 'content-length': '0' },
    ok: [200, 201, 204],
  });
  await res.body.dump();
  confirm(res.headers['docker-content-digest'], digest, res.url);
}

function confirm(claimed: string | undefined, digest: Sha256Digest, url: string): void {
  if (claimed !== undefined && claimed !== '' && claimed !== digest) {
    throw new DigestMismatchError(`blob upload to ${url}`, digest, claimed, {
      hint: 'The registry stored something else than was sent; push again.',
    });
  }
}
