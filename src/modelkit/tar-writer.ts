/**
 * Streams a tar layer into a {@link ByteSink}: Go-identical headers, file data read ahead in
 * large chunks, small pieces coalesced, and a file that changes size while packing is an error.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { alignedRing, readAhead } from '../core/direct-io.js';
import { CairnError } from '../core/errors.js';
import type { ByteSink } from './layer-sink.js';
import type { WalkEntry } from './layer-walk.js';
import { BLOCK, TRAILER, encodeHeader, padding, writeSimpleHeader } from './tar-header.js';

/** read size for large files (bytes) */
const CHUNK = 4 * 1024 * 1024;
/**
 * read size for the data of large files: a direct write of 16 MiB runs at twice the disk
 * throughput of 4 MiB ones here (0.85 s against 1.8 s per GiB)
 */
const LARGE_READ = 16 * 1024 * 1024;
/** files up to this size are read whole, several at a time (bytes) */
const SMALL = 256 * 1024;

/** Coalesces small writes into large buffers. */
class Staging {
  #buf = Buffer.allocUnsafe(CHUNK);
  #len = 0;
  constructor(private readonly sink: ByteSink) {}

  async put(data: Uint8Array): Promise<void> {
    if (data.length >= CHUNK / 2) {
      await this.flush();
      await this.sink.write(Buffer.from(data.buffer, data.byteOffset, data.length));
      return;
    }
    if (this.#len + data.length > this.#buf.length) await this.flush();
    this.#buf.set(data, this.#len);
    this.#len += data.length;
  }

  /** Reads a small file into the buffer, followed by its zero padding (`room` bytes in all). */
  async readFileInto(e: WalkEntry, room: number): Promise<void> {
    if (this.#len + room > this.#buf.length) await this.flush();
    const fd = fs.openSync(e.abs, 'r');
    try {
      let got = 0;
      while (got < e.size) {
        const n = fs.readSync(fd, this.#buf, this.#len + got, e.size - got, got);
        if (n === 0) throw changed(e, got);
        got += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    this.#buf.fill(0, this.#len + e.size, this.#len + room);
    this.#len += room;
  }

  /** A header, written in place when it is a plain USTAR one. */
  async header(e: WalkEntry): Promise<void> {
    if (this.#len + BLOCK > this.#buf.length) await this.flush();
    if (writeSimpleHeader(this.#buf, this.#len, e)) this.#len += BLOCK;
    else await this.put(encodeHeader(e));
  }

  async zeros(n: number): Promise<void> {
    if (n === 0) return;
    if (this.#len + n > this.#buf.length) await this.flush();
    this.#buf.fill(0, this.#len, this.#len + n);
    this.#len += n;
  }

  async flush(): Promise<void> {
    if (this.#len === 0) return;
    const full = this.#buf.subarray(0, this.#len);
    this.#buf = Buffer.allocUnsafe(CHUNK);
    this.#len = 0;
    await this.sink.write(full);
  }
}

function changed(e: WalkEntry, got: number): CairnError {
  return new CairnError(
    'file-changed',
    `${e.abs} changed size while packing (expected ${e.size} bytes, read ${got})`,
    {
      hint: 'Do not modify files while `cairn pack` runs, then pack again.',
    },
  );
}

/** Writes the whole archive (entries, then two zero blocks) into `sink`. */
export async function writeTar(
  entries: readonly WalkEntry[],
  sink: ByteSink,
  onBytes: (n: number) => void = () => undefined,
): Promise<void> {
  const staging = new Staging(sink);
  for (const e of entries) {
    await staging.header(e);
    if (e.type === 'dir') continue;
    if (e.size <= SMALL) {
      // Small files are read synchronously straight into the staging buffer: on a warm cache
      // open+read+close cost microseconds, far less than three promise round trips.
      await staging.readFileInto(e, e.size + padding(e.size));
      onBytes(e.size);
    } else {
      await staging.flush();
      await copyLarge(e, sink, onBytes);
      await staging.zeros(padding(e.size));
    }
  }
  await staging.put(TRAILER);
  await staging.flush();
}

/** A raw layer: the bytes of exactly one regular file. */
export async function writeRaw(
  entries: readonly WalkEntry[],
  sink: ByteSink,
  onBytes: (n: number) => void = () => undefined,
): Promise<void> {
  const e = entries[0];
  if (entries.length !== 1 || e === undefined || e.type !== 'file') {
    throw new Error('Internal error: a raw layer holds exactly one file');
  }
  if (e.size > 0) await copyLarge(e, sink, onBytes);
}

async function copyLarge(
  e: WalkEntry,
  sink: ByteSink,
  onBytes: (n: number) => void,
): Promise<void> {
  const fh = await fsp.open(e.abs, 'r');
  try {
    // A sink that is done with a buffer once write() returns (all but its last few writes have
    // completed) lets us cycle a small ring instead of faulting in fresh memory for every
    // chunk; the ring is page-aligned, so the sink can write it past the page cache.
    const chunks = readAhead(
      fh,
      sink.reusesAfter === undefined
        ? { size: LARGE_READ }
        : { ring: alignedRing(sink.reusesAfter + 2, LARGE_READ) },
    );
    let pos = 0;
    for await (const buf of chunks) {
      if (pos + buf.length > e.size) throw changed(e, pos + buf.length); // it grew
      pos += buf.length;
      await sink.write(buf);
      onBytes(buf.length);
    }
    if (pos !== e.size) throw changed(e, pos); // it shrank
  } finally {
    await fh.close();
  }
}
