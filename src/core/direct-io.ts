/**
 * Writing large files without the page cache. On the virtual machines Cairn runs on, the
 * first touch of a freshly allocated page-cache page costs the kernel about 2 s per GiB (the
 * host hands guest memory back lazily), so a buffered 1 GiB copy takes 0.4–3.5 s of system
 * time depending on what memory the kernel picks. O_DIRECT writes go from our buffers to the
 * disk and touch no new page: about 0.25 s of CPU per GiB, every time.
 *
 * Direct I/O needs the buffer address, the file offset and the length aligned (512 bytes on
 * ext4 over a 512-byte-sector disk; the kernel answers EINVAL otherwise). Buffers from
 * {@link alignedRing} are page-aligned; a write whose offset or length is not aligned goes
 * through the ordinary descriptor instead, and so does everything after an EINVAL (a
 * filesystem or device with coarser alignment, or none at all, like older tmpfs).
 * `CAIRN_DIRECT_IO=0` turns direct writes off: callers read it from their environment with
 * {@link directIoAllowed} and pass `direct: false`.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { errnoCode } from './errors.js';

/** Whether `env` allows direct writes: `CAIRN_DIRECT_IO=0` keeps every write buffered. */
export function directIoAllowed(env: NodeJS.ProcessEnv): boolean {
  return env.CAIRN_DIRECT_IO !== '0';
}

/** offset and length granularity tried for direct writes */
const DIRECT_ALIGN = 512;
/** WebAssembly pages are 64 KiB, and the memory behind them is page-aligned */
const WASM_PAGE = 64 * 1024;

/** The one part of the WebAssembly API used here (Node's types leave it to the DOM library). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
};

/** Memory known to be page-aligned at offset 0: it came from {@link alignedRing}. */
const alignedMemory = new WeakSet<ArrayBufferLike>();

/**
 * `count` buffers of `size` bytes (rounded up to 64 KiB) in one page-aligned block, for
 * reading into and writing out of with direct I/O. The block lives as long as any of them.
 */
export function alignedRing(count: number, size: number): Buffer[] {
  const each = Math.ceil(size / WASM_PAGE) * WASM_PAGE;
  const pages = (each * count) / WASM_PAGE;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  alignedMemory.add(memory.buffer);
  return Array.from({ length: count }, (_, i) => Buffer.from(memory.buffer, i * each, size));
}

/**
 * The bytes of `fh` from the start to its end, in chunks read into the buffers of `ring` in
 * turn (or into fresh `size`-byte buffers without a ring), the next read in flight while the
 * caller works on the current chunk. A ring buffer is read into again `ring.length - 1` chunks
 * later: besides the current chunk, the caller may still hold at most `ring.length - 2`.
 */
export async function* readAhead(
  fh: FileHandle,
  o: { ring: readonly Buffer[] } | { size: number },
): AsyncGenerator<Buffer> {
  let turn = 0;
  const readAt = async (at: number): Promise<Buffer> => {
    const buf =
      'ring' in o ? (o.ring[turn++ % o.ring.length] as Buffer) : Buffer.allocUnsafe(o.size);
    const { bytesRead } = await fh.read(buf, 0, buf.length, at);
    return buf.subarray(0, bytesRead);
  };
  let pos = 0;
  let next = readAt(0);
  try {
    for (;;) {
      const chunk = await next;
      if (chunk.length === 0) return;
      pos += chunk.length;
      next = readAt(pos);
      yield chunk;
    }
  } finally {
    await next.catch(() => undefined); // the caller closes `fh` next: no read may be left
  }
}

function directCapable(buf: Uint8Array, pos: number): boolean {
  return (
    alignedMemory.has(buf.buffer) &&
    buf.byteOffset % DIRECT_ALIGN === 0 &&
    pos % DIRECT_ALIGN === 0 &&
    buf.length >= DIRECT_ALIGN
  );
}

type Mode = 'direct' | 'buffered';

/**
 * Appends to a file at explicit offsets with several writes in flight (they never reorder the
 * file's contents). Given the file's path, aligned buffers are written with O_DIRECT through
 * a second descriptor; the rest, and every other buffer, through `fh`. The two kinds of write
 * never overlap in time: a switch waits for the writes in flight, so the page cache and the
 * disk never disagree about a range.
 *
 * A buffer passed to write() must stay unmodified until `maxInflight` later writes have
 * returned (or flush() has).
 */
export class PositionalWriter {
  readonly #fh: FileHandle;
  readonly #path: string | undefined;
  readonly #maxInflight: number;
  #pos: number;
  #inflight: Promise<unknown>[] = [];
  #mode: Mode = 'buffered';
  /** the O_DIRECT descriptor, once asked for */
  #direct: Promise<FileHandle | undefined> | undefined;
  /** false without a path, or once the file system refused a direct open or write */
  #useDirect: boolean;
  #directBytes = 0;

  /**
   * `path` enables direct writes unless `direct` is false (see {@link directIoAllowed}); `at`
   * is where the first write lands.
   */
  constructor(
    fh: FileHandle,
    path?: string,
    options: { maxInflight?: number; at?: number; direct?: boolean } = {},
  ) {
    this.#fh = fh;
    this.#path = path;
    this.#useDirect = path !== undefined && options.direct !== false;
    this.#maxInflight = options.maxInflight ?? 4;
    this.#pos = options.at ?? 0;
  }

  /** bytes that went to the disk directly so far (for tests and diagnostics) */
  get directBytes(): number {
    return this.#directBytes;
  }

  /** where the next write lands */
  get position(): number {
    return this.#pos;
  }

  async write(buf: Uint8Array): Promise<void> {
    if (buf.length === 0) return;
    const pos = this.#pos;
    this.#pos += buf.length;
    const direct = this.#useDirect && directCapable(buf, pos);
    if (!direct) {
      await this.#issue('buffered', () => this.#buffered(buf, pos));
      return;
    }
    const head = buf.length - (buf.length % DIRECT_ALIGN);
    await this.#issue('direct', () => this.#directly(buf.subarray(0, head), pos));
    if (head < buf.length) {
      const tail = buf.subarray(head);
      await this.#issue('buffered', () => this.#buffered(tail, pos + head));
    }
  }

  /** Waits for every write issued so far. */
  async flush(): Promise<void> {
    const all = this.#inflight;
    this.#inflight = [];
    await Promise.all(all);
  }

  /** Flushes, then closes the direct descriptor (never `fh`, which belongs to the caller). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.#useDirect = false;
      const direct = this.#direct;
      this.#direct = Promise.resolve(undefined);
      await (await direct)?.close();
    }
  }

  async #issue(mode: Mode, start: () => Promise<void>): Promise<void> {
    if (mode !== this.#mode) {
      await this.flush();
      this.#mode = mode;
    }
    this.#inflight.push(start());
    if (this.#inflight.length >= this.#maxInflight) await this.#inflight.shift();
  }

  async #buffered(buf: Uint8Array, pos: number): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.#fh.write(buf, off, buf.length - off, pos + off);
      off += bytesWritten;
    }
  }

  async #directly(buf: Uint8Array, pos: number): Promise<void> {
    const fh = await this.#directHandle();
    let off = 0;
    while (off < buf.length) {
      // Unavailable, turned off by an EINVAL, or an unaligned rest after a short write.
      if (fh === undefined || !this.#useDirect || (buf.length - off) % DIRECT_ALIGN !== 0) {
        await this.#buffered(buf.subarray(off), pos + off);
        return;
      }
      try {
        const { bytesWritten } = await fh.write(buf, off, buf.length - off, pos + off);
        off += bytesWritten;
        this.#directBytes += bytesWritten;
      } catch (error) {
        if (errnoCode(error) !== 'EINVAL') throw error;
        // This filesystem wants another alignment (or none): the page cache from here on.
        this.#useDirect = false;
      }
    }
  }

  /** The O_DIRECT descriptor, opened on first use; undefined when the file system refuses. */
  #directHandle(): Promise<FileHandle | undefined> {
    const path = this.#path;
    if (path === undefined) return Promise.resolve(undefined);
    this.#direct ??= fsp.open(path, fs.constants.O_WRONLY | fs.constants.O_DIRECT).catch(() => {
      this.#useDirect = false;
      return undefined;
    });
    return this.#direct;
  }
}
