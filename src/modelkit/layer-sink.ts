/**
 * Where layer bytes go while they are produced: hashed for the diffId, compressed if asked,
 * hashed again for the digest, and written to a temp file — one pass, bounded memory.
 */
import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { PositionalWriter } from '../core/direct-io.js';
import { Sha256Counter, type Sha256Digest } from '../oci/digest.js';

export type Compression = 'none' | 'gzip' | 'gzip-fastest' | 'zstd';

export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'gzip-fastest', 'zstd'];

export interface LayerBlob {
  /** sha256 of the stored (possibly compressed) bytes */
  digest: Sha256Digest;
  /** sha256 of the uncompressed bytes */
  diffId: Sha256Digest;
  /** bytes stored */
  size: number;
  /** bytes before compression */
  uncompressedSize: number;
}

/** writes in flight at once (each up to 16 MiB: see tar-writer's LARGE_READ) */
const MAX_INFLIGHT = 4;

export interface ByteSink {
  /**
   * When set, a buffer passed to write() may be reused once this many later writes have
   * returned (writes complete in order, at most this many in flight); otherwise never reuse.
   */
  readonly reusesAfter?: number;
  /** `buf` must not be modified afterwards (it may still be in flight) */
  write(buf: Buffer): Promise<void>;
  /** Waits for every write and gives the blob's digests; the sink is closed afterwards. */
  finish(): Promise<LayerBlob>;
  /** Closes the sink after a failure, writes in flight included (errors are ignored). */
  discard(): Promise<void>;
}

/**
 * A sink writing into `fh`, the temp file at `path`: large aligned chunks (file data read by
 * tar-writer into an aligned ring) go to the disk directly, past the page cache, unless
 * `direct` is false.
 */
export async function createLayerSink(
  fh: FileHandle,
  path: string,
  compression: Compression,
  direct: boolean,
): Promise<ByteSink> {
  const out = new PositionalWriter(fh, path, { maxInflight: MAX_INFLIGHT, direct });
  const diff = new Sha256Counter();
  const discard = (): Promise<void> => out.close().catch(() => undefined);
  if (compression === 'none') {
    return {
      reusesAfter: MAX_INFLIGHT,
      async write(buf) {
        diff.update(buf);
        await out.write(buf);
      },
      async finish() {
        await out.close();
        const d = diff.digest();
        return { digest: d, diffId: d, size: diff.size, uncompressedSize: diff.size };
      },
      discard,
    };
  }
  const stored = new Sha256Counter();
  const compressor = await makeCompressor(compression);
  let failure: Error | undefined;
  let chain = Promise.resolve();
  compressor.on('data', (chunk: Buffer) => {
    stored.update(chunk);
    chain = chain
      .then(() => out.write(chunk))
      .catch((error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      });
  });
  compressor.on('error', (error: Error) => {
    failure ??= error;
  });
  return {
    async write(buf) {
      if (failure !== undefined) throw failure;
      diff.update(buf);
      if (!compressor.write(buf)) await once(compressor, 'drain');
      await chain;
    },
    async finish() {
      compressor.end();
      await once(compressor, 'end');
      await chain;
      await out.close();
      if (failure !== undefined) throw failure;
      return {
        digest: stored.digest(),
        diffId: diff.digest(),
        size: stored.size,
        uncompressedSize: diff.size,
      };
    },
    async discard() {
      compressor.destroy();
      await chain.catch(() => undefined);
      await discard();
    },
  };
}

/** gzip as Go writes it where possible (no name, mtime 0); zstd through zstd-napi. */
async function makeCompressor(c: Exclude<Compression, 'none'>): Promise<Transform> {
  switch (c) {
    case 'gzip':
      return zlib.createGzip({ level: 6 });
    case 'gzip-fastest':
      return zlib.createGzip({ level: 1 });
    case 'zstd': {
      const { CompressStream } = await import('zstd-napi');
      return new CompressStream();
    }
  }
}

/** A decompressing transform for a layer's compression suffix. */
export async function makeDecompressor(c: 'gzip' | 'zstd'): Promise<Transform> {
  if (c === 'gzip') return zlib.createGunzip();
  const { DecompressStream } = await import('zstd-napi');
  return new DecompressStream();
}
