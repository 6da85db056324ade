/**
 * Blob downloads into the store: streamed to `ingest/<hex>.partial` in large writes while
 * hashing, resumed with `Range` after a dropped connection or a `kill -9` (the prefix already on
 * disk is re-hashed first), and committed only when size and digest match the descriptor.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CairnError, DigestMismatchError, errnoCode } from '../../core/errors.js';
import { Sha256Counter, digestHex, type Sha256Digest } from '../digest.js';
import type { LocalStore } from '../layout.js';
import type { Descriptor } from '../manifest.js';
import type { RegistryClient } from './client.js';
import { isTransportFailure } from './errors.js';
import { backoffMs } from './retry.js';
import { pullScope } from './manifests.js';

const CHUNK = 4 * 1024 * 1024;
const RING = 6;

export interface DownloadResult {
  digest: Sha256Digest;
  size: number;
  /** present: already in the store; downloaded: fetched now */
  action: 'present' | 'downloaded';
  /** bytes that were on disk from an earlier, interrupted attempt */
  resumedFrom: number;
  /** bytes received over the network */
  received: number;
}

/** Where an interrupted download of `digest` waits to be resumed. */
export function partialPath(store: LocalStore, digest: Sha256Digest): string {
  return path.join(store.root, 'ingest', `${digestHex(digest)}.partial`);
}

/** Hashes what an interrupted download left; drops it when it is longer than the blob. */
async function rehashPartial(file: string, size: number): Promise<Sha256Counter> {
  const hash = new Sha256Counter();
  let fh;
  try {
    fh = await fsp.open(file, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return hash;
    throw error;
  }
  try {
    const st = await fh.stat();
    if (st.size > size) {
      await fh.close();
      await fsp.rm(file, { force: true });
      return hash;
    }
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, hash.size);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return hash;
}

/**
 * Downloads one blob into the store (a no-op when present). The caller holds the store lock, so
 * no other Cairn process writes the same partial file.
 */
export async function downloadBlob(
  client: RegistryClient,
  store: LocalStore,
  repository: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  onBytes: (n: number) => void = () => undefined,
  signal?: AbortSignal,
): Promise<DownloadResult> {
  const { digest, size } = desc;
  const target = store.blobPath(digest);
  const st = await fsp.stat(target).catch(() => undefined);
  if (st?.size === size) return { digest, size, action: 'present', resumedFrom: 0, received: 0 };
  const file = partialPath(store, digest);
  let hash = await rehashPartial(file, size);
  const resumedFrom = hash.size;
  if (resumedFrom > 0) onBytes(resumedFrom);
  let received = 0;
  const url = client.url(repository, `blobs/${digest}`);
  for (let attempt = 0; ; attempt++) {
    if (hash.size === size) break;
    try {
      const got = await fetchRange(client, repository, url, file, hash, size, onBytes, signal);
      received += got.received;
      if (got.restart) {
        hash = new Sha256Counter();
        await fsp.rm(file, { force: true });
      }
      if (hash.size === size) break;
      if (got.complete) {
        // The registry sent the whole body it announced, and it is shorter than the blob.
        await fsp.rm(file, { force: true });
        throw new CairnError(
          'size-mismatch',
          `GET ${url}: the blob is ${hash.size} bytes, but the manifest says ${size}`,
          { hint: 'The manifest or the registry is wrong; nothing was stored.' },
        );
      }
      if (!got.restart) throw new CairnError('truncated', `GET ${url}: the body ended early`);
    } catch (error) {
      const retriable =
        isTransportFailure(error) || (error instanceof CairnError && error.code === 'truncated');
      if (error instanceof CairnError && error.code === 'size-mismatch') {
        await fsp.rm(file, { force: true }); // bytes of a blob that is not the one described
      }
      if (!retriable || attempt >= client.retry.retries) throw error;
      // What reached the disk is kept; the next request asks for the rest.
      hash = await rehashPartial(file, size);
      await sleep(backoffMs(attempt, client.retry), undefined, { signal });
    }
  }
  const actual = hash.digest();
  if (actual !== digest) {
    await fsp.rm(file, { force: true });
    throw new DigestMismatchError(`blob downloaded from ${url}`, digest, actual, {
      hint: 'The registry holds corrupt data for this digest; it was deleted and nothing was stored. Push the ModelKit again or tell the registry operator.',
    });
  }
  if (size === 0) await fsp.writeFile(file, '', { mode: 0o600 }); // nothing to fetch, just the file
  await fsp.chmod(file, 0o600).catch(() => undefined);
  await store.commitBlob(file, digest);
  return { digest, size, action: 'downloaded', resumedFrom, received };
}

/**
 * One GET from `hash.size` to the end. Returns restart when the registry ignored the Range and
 * sent the blob from the start (the caller then starts over from byte 0).
 */
async function fetchRange(
  client: RegistryClient,
  repository: string,
  url: string,
  file: string,
  hash: Sha256Counter,
  size: number,
  onBytes: (n: number) => void,
  signal: AbortSignal | undefined,
): Promise<{ received: number; restart: boolean; complete: boolean }> {
  const from = hash.size;
  const res = await client.send({
    method: 'GET',
    url,
    scopes: [pullScope(repository)],
    headers: from > 0 ? { range: `bytes=${from}-` } : {},
    ok: [200, 206, 416],
    retry: true,
    ...(signal === undefined ? {} : { signal }),
  });
  if (res.status === 416 || (from > 0 && res.status === 200)) {
    await res.body.dump();
    return { received: 0, restart: true, complete: false };
  }
  const fh = await fsp.open(file, from > 0 ? 'r+' : 'w', 0o600);
  let received = 0;
  let pos = from;
  const ring = Array.from({ length: RING }, () => Buffer.allocUnsafeSlow(CHUNK));
  let turn = 0;
  let buf = ring[0] as Buffer;
  let fill = 0;
  const inflight: Promise<void>[] = [];
  const writeAt = async (b: Buffer, at: number): Promise<void> => {
    let off = 0;
    while (off < b.length) {
      const { bytesWritten } = await fh.write(b, off, b.length - off, at + off);
      off += bytesWritten;
    }
  };
  // Hashing happens when a buffer is handed to the writer, so the hash always covers exactly
  // the bytes written, in order: after any failure the file and the hash agree once writes settle.
  const flush = async (): Promise<void> => {
    if (fill === 0) return;
    const out = buf.subarray(0, fill);
    hash.update(out);
    inflight.push(writeAt(out, pos));
    pos += fill;
    onBytes(fill);
    fill = 0;
    turn = (turn + 1) % RING;
    buf = ring[turn] as Buffer;
    if (inflight.length >= RING - 2) await inflight.shift();
  };
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (from + received > size) {
        res.body.destroy();
        throw new CairnError(
          'size-mismatch',
          `GET ${url}: the registry sent more than the descriptor's ${size} bytes`,
          { hint: 'The registry or the manifest is corrupt; nothing was stored.' },
        );
      }
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(chunk.length - off, CHUNK - fill);
        chunk.copy(buf, fill, off, off + n);
        fill += n;
        off += n;
        if (fill === CHUNK) await flush();
      }
    }
    await flush();
  } catch (error) {
    // Keep what was received (it is hashed and being written) so the retry resumes after it.
    if (fill > 0 && isTransportFailure(error)) await flush().catch(() => undefined);
    throw error;
  } finally {
    await Promise.allSettled(inflight);
    await fh.close();
  }
  await Promise.all(inflight);
  const announced = Number(res.headers['content-length'] ?? NaN);
  return { received, restart: false, complete: announced === received };
}
