/**
 * Where layer bytes go while they are produced: hashed for the diffId, compressed if asked,
 * hashed again for the digest, and written to a temp file — one pass, bounded memory.
 */
import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { nativeHelpers, type NativeHelpers } from '../data/native.js';
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

/** writes in flight at once */
const MAX_INFLIGHT = 4;

/** Writes at explicit offsets so several writes can be in flight without reordering. */
class PositionalWriter {
  readonly #fh: FileHandle;
  #pos = 0;
  #inflight: Promise<unknown>[] = [];

  constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  async write(buf: Uint8Array): Promise<void> {
    if (buf.length === 0) return;
    this.#inflight.push(this.#writeAll(buf, this.#pos));
    this.#pos += buf.length;
    if (this.#inflight.length >= MAX_INFLIGHT) await this.#inflight.shift();
  }

  async #writeAll(buf: Uint8Array, pos: number): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.#fh.write(buf, off, buf.length - off, pos + off);
      off += bytesWritten;
    }
  }

  /** Claims the next `n` bytes for a writer outside this one (an in-kernel copy). */
  reserve(n: number): number {
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  async flush(): Promise<void> {
    const all = this.#inflight;
    this.#inflight = [];
    await Promise.all(all);
  }
}

export interface ByteSink {
  /**
   * When set, a buffer passed to write() may be reused once this many later writes have
   * returned (writes complete in order, at most this many in flight); otherwise never reuse.
   */
  readonly reusesAfter?: number;
  /** `buf` must not be modified afterwards (it may still be in flight) */
  write(buf: Buffer): Promise<void>;
  /**
   * Present when the sink can take a large file's bytes by an in-kernel copy: copies up to
   * `size` bytes from the start of `fd` and returns how many there were.
   */
  copyFrom?(fd: number, size: number, onBytes: (n: number) => void): Promise<number>;
  finish(): Promise<LayerBlob>;
}

/** `fh` must be open for reading too: an in-kernel copy is hashed by reading it back. */
export async function createLayerSink(fh: FileHandle, compression: Compression): Promise<ByteSink> {
  const out = new PositionalWriter(fh);
  const diff = new Sha256Counter();
  if (compression === 'none') {
    const native = nativeHelpers();
    return {
      reusesAfter: MAX_INFLIGHT,
      async write(buf) {
        diff.update(buf);
        await out.write(buf);
      },
      ...(native === undefined
        ? {}
        : {
            async copyFrom(fd: number, size: number, onBytes: (n: number) => void) {
              await out.flush();
              return copyAndHash(native, fd, fh, out.reserve(size), size, diff, onBytes);
            },
          }),
      async finish() {
        await out.flush();
        const d = diff.digest();
        return { digest: d, diffId: d, size: diff.size, uncompressedSize: diff.size };
      },
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
      await out.flush();
      if (failure !== undefined) throw failure;
      return {
        digest: stored.digest(),
        diffId: diff.digest(),
        size: stored.size,
        uncompressedSize: diff.size,
      };
    },
  };
}

/** bytes per in-kernel copy call: small enough that hashing follows the copy closely */
const COPY_CHUNK = 16 * 1024 * 1024;
const HASH_READ = 4 * 1024 * 1024;

/**
 * Copies `size` bytes from `src` into `dst` at `at` inside the kernel, one chunk ahead of the
 * hashing, which reads the copy back from the page cache: the digest covers the bytes as
 * stored, and no JavaScript buffer is ever written. Returns the bytes copied (fewer when the
 * source was shorter than `size`).
 */
async function copyAndHash(
  native: NativeHelpers,
  src: number,
  dst: FileHandle,
  at: number,
  size: number,
  hash: Sha256Counter,
  onBytes: (n: number) => void,
): Promise<number> {
  const copy = (from: number): Promise<number> =>
    native.copyRange(src, from, dst.fd, at + from, Math.min(COPY_CHUNK, size - from));
  const bufs = [Buffer.allocUnsafeSlow(HASH_READ), Buffer.allocUnsafeSlow(HASH_READ)];
  let turn = 0;
  const readAt = async (pos: number, len: number): Promise<Buffer> => {
    const buf = (bufs[turn++ % 2] as Buffer).subarray(0, len);
    const { bytesRead } = await dst.read(buf, 0, len, pos);
    if (bytesRead !== len) throw new Error(`Internal error: short read of a layer being written`);
    return buf;
  };
  let done = 0;
  let copying = size > 0 ? copy(0) : Promise.resolve(0);
  while (done < size) {
    const len = await copying;
    if (len === 0) return done;
    const next = done + len;
    if (next < size) copying = copy(next);
    // Hash what was just copied, reading one buffer ahead.
    let pos = 0;
    let reading = readAt(at + done, Math.min(HASH_READ, len));
    while (pos < len) {
      const buf = await reading;
      pos += buf.length;
      if (pos < len) reading = readAt(at + done + pos, Math.min(HASH_READ, len - pos));
      hash.update(buf);
    }
    onBytes(len);
    done = next;
  }
  return done;
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
