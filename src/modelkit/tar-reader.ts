/**
 * A streaming tar reader for untrusted layers: USTAR, PAX (`x`) and GNU long names; only
 * regular files and directories are accepted, and an archive whose data runs short of its
 * headers is an error.
 */
import { CairnError } from '../core/errors.js';
import { BLOCK, decodeHeader, isZeroBlock, padding, parsePaxRecords } from './tar-header.js';

export class UnsafeArchiveError extends CairnError {
  override readonly name = 'UnsafeArchiveError';
}

export interface TarEntry {
  /** the name as stored (after PAX / GNU long-name records), not yet sanitised */
  name: string;
  type: 'file' | 'dir';
  mode: number;
  /** bytes */
  size: number;
}

/** Pulls exact byte counts out of a stream of chunks. */
export class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;
  #taken = 0;

  /** Bytes handed out so far: the stream offset of the next byte read. */
  get position(): number {
    return this.#taken;
  }

  constructor(src: AsyncIterable<Buffer>) {
    this.#it = src[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const r = await this.#it.next();
    if (r.done === true) {
      this.#done = true;
      return false;
    }
    this.#buf = this.#buf.length === 0 ? r.value : Buffer.concat([this.#buf, r.value]);
    return true;
  }

  /** Ends the source early (closing the file it reads), e.g. when a bad entry stops the walk. */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#it.return?.();
  }

  /** Exactly `n` bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.#buf.length < n && (await this.#fill()));
    const out = this.#buf.subarray(0, Math.min(n, this.#buf.length));
    this.#buf = this.#buf.subarray(out.length);
    this.#taken += out.length;
    return out;
  }

  /** Up to `n` bytes in chunks as they come (for file data). */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#fill())) return;
      const take = this.#buf.subarray(0, Math.min(left, this.#buf.length));
      this.#buf = this.#buf.subarray(take.length);
      left -= take.length;
      this.#taken += take.length;
      yield take;
    }
  }

  /** Reads and discards everything left, so digests computed upstream see every byte. */
  async drain(): Promise<void> {
    this.#buf = Buffer.alloc(0);
    while (await this.#fill()) this.#buf = Buffer.alloc(0);
  }
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
  '7': 'a contiguous file',
  S: 'a sparse file',
};

/**
 * Yields each entry; the caller must consume exactly `entry.size` bytes of data with
 * `reader.chunks(entry.size)` (or let `skip` do it) before asking for the next.
 */
export async function* readTar(
  reader: ByteReader,
  where: string,
): AsyncGenerator<TarEntry & { skip: () => Promise<void>; data: () => AsyncGenerator<Buffer> }> {
  let pax = new Map<string, string>();
  let longName: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block.length === 0) return; // tolerated: an archive without its end blocks
    if (block.length < BLOCK) throw truncated(where);
    if (isZeroBlock(block)) return;
    const h = decodeHeader(block);
    if (h === undefined) {
      throw new UnsafeArchiveError(
        'tar-invalid',
        `${where}: invalid tar header (bad checksum or number)`,
        {
          hint: 'The layer is corrupt or not a tar archive.',
        },
      );
    }
    if (h.typeflag === 'x' || h.typeflag === 'g' || h.typeflag === 'L') {
      if (h.size > 1024 * 1024)
        throw new UnsafeArchiveError('tar-invalid', `${where}: oversized extended header`);
      const data = await reader.read(h.size);
      if (data.length < h.size) throw truncated(where);
      await reader.read(padding(h.size));
      if (h.typeflag === 'L') {
        longName = data.toString('utf8').replace(/\0+$/, '');
      } else if (h.typeflag === 'x') {
        const recs = parsePaxRecords(data);
        if (recs === undefined)
          throw new UnsafeArchiveError('tar-invalid', `${where}: malformed PAX header`);
        pax = recs;
      }
      continue; // global headers carry nothing we use
    }
    let name = longName ?? h.name;
    let size = h.size;
    const paxPath = pax.get('path');
    if (paxPath !== undefined) name = paxPath;
    const paxSize = pax.get('size');
    if (paxSize !== undefined) {
      if (!/^\d+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
        throw new UnsafeArchiveError('tar-invalid', `${where}: bad PAX size ${paxSize}`);
      }
      size = Number(paxSize);
    }
    pax = new Map();
    longName = undefined;
    if (h.typeflag !== '0' && h.typeflag !== '5') {
      throw new UnsafeArchiveError(
        'tar-unsafe-type',
        `${where}: entry ${JSON.stringify(name)} is ${TYPE_NAMES[h.typeflag] ?? `of unrecognised type '${h.typeflag}'`}; only regular files and directories are unpacked`,
        { hint: 'This ModelKit was not written by kit or Cairn; do not trust it.' },
      );
    }
    const type = h.typeflag === '5' ? 'dir' : 'file';
    if (type === 'dir') size = 0;
    let consumed = false;
    const data = async function* (): AsyncGenerator<Buffer> {
      consumed = true;
      let got = 0;
      for await (const c of reader.chunks(size)) {
        got += c.length;
        yield c;
      }
      if (got < size) throw truncated(where, name, size, got);
      const pad = await reader.read(padding(size));
      if (pad.length < padding(size)) throw truncated(where);
    };
    const skip = async (): Promise<void> => {
      if (consumed) return;
      for await (const _ of data()) {
        // discard
      }
    };
    yield { name, type, mode: h.mode, size, data, skip };
    await skip();
  }
}

function truncated(where: string, name?: string, size?: number, got?: number): UnsafeArchiveError {
  const detail =
    name === undefined
      ? ''
      : `: entry ${JSON.stringify(name)} declares ${size} bytes but only ${got} follow`;
  return new UnsafeArchiveError('tar-truncated', `${where}: the archive is truncated${detail}`, {
    hint: 'The layer is corrupt or was cut short.',
  });
}
