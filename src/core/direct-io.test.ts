import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alignedRing, directIoAllowed, PositionalWriter, readAhead } from './direct-io.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-direct-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Whether this file system takes O_DIRECT at all (tmpfs before Linux 6.6 does not). */
function directSupported(): boolean {
  const probe = path.join(dir, 'probe');
  fs.writeFileSync(probe, '');
  try {
    fs.closeSync(fs.openSync(probe, fs.constants.O_WRONLY | fs.constants.O_DIRECT));
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe);
  }
}

/** Pages of `file` in the page cache, as util-linux's fincore counts them. */
function residentPages(file: string): number {
  const out = execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'PAGES', file]);
  return Number(out.toString().trim());
}

describe('PositionalWriter', () => {
  it('writes aligned buffers past the page cache and everything else through it, in order', async () => {
    const MIB = 1024 * 1024;
    const ring = alignedRing(3, MIB);
    const file = path.join(dir, 'out');
    const fh = await fsp.open(file, 'wx', 0o600);
    const writer = new PositionalWriter(fh, file);
    const expected: Buffer[] = [];
    const put = async (buf: Buffer): Promise<void> => {
      expected.push(Buffer.from(buf));
      await writer.write(buf);
    };
    // A tar-like stream: an unaligned 512-byte header, then aligned file data whose last
    // chunk has an odd length, then unaligned padding, then aligned data again.
    await put(randomBytes(512));
    for (let i = 0; i < 3; i++) {
      const buf = ring[i % 3] as Buffer;
      buf.set(randomBytes(MIB));
      await put(i === 2 ? buf.subarray(0, MIB - 100) : buf);
      if (i === 0) await writer.flush(); // the ring is reused only after its writes finished
    }
    await put(Buffer.alloc(100));
    await writer.flush();
    const again = ring[0] as Buffer;
    again.set(randomBytes(MIB));
    await put(again.subarray(4096, 4096 + 8192));
    await writer.close();
    await fh.close();

    const written = fs.readFileSync(file);
    expect(written.equals(Buffer.concat(expected))).toBe(true);
    expect(writer.position).toBe(written.length);
    if (directSupported()) {
      // header + 3 MiB - 100 + 100 + 8 KiB: everything but the header, the odd tail and the
      // padding went to the disk directly
      expect(writer.directBytes).toBe(3 * MIB - 512 + 8192);
    }
  });

  it('writes everything through the page cache when told not to (CAIRN_DIRECT_IO=0)', async () => {
    expect(directIoAllowed({ CAIRN_DIRECT_IO: '0' })).toBe(false);
    expect(directIoAllowed({})).toBe(true);
    const ring = alignedRing(1, 1024 * 1024);
    const buf = (ring[0] as Buffer).fill(7);
    const file = path.join(dir, 'buffered');
    const fh = await fsp.open(file, 'wx', 0o600);
    const writer = new PositionalWriter(fh, file, { direct: false });
    await writer.write(buf);
    await writer.close();
    await fh.close();
    expect(writer.directBytes).toBe(0);
    expect(fs.readFileSync(file).equals(buf)).toBe(true);
  });

  it('leaves the pages of a directly written file out of the page cache', async () => {
    if (!directSupported()) return;
    const ring = alignedRing(2, 4 * 1024 * 1024);
    const file = path.join(dir, 'big');
    const fh = await fsp.open(file, 'wx', 0o600);
    const writer = new PositionalWriter(fh, file);
    for (const buf of ring) {
      buf.fill(7);
      await writer.write(buf);
    }
    await writer.close();
    await fh.close();
    expect(fs.statSync(file).size).toBe(8 * 1024 * 1024);
    expect(residentPages(file)).toBe(0);
  });

  it('writes unaligned offsets and buffers of any origin through the page cache', async () => {
    const file = path.join(dir, 'plain');
    const fh = await fsp.open(file, 'wx', 0o600);
    const ring = alignedRing(1, 65536);
    (ring[0] as Buffer).fill(1);
    const writer = new PositionalWriter(fh, file, { at: 100 });
    await writer.write(ring[0] as Buffer); // aligned memory, unaligned offset
    await writer.write(Buffer.alloc(4096, 2)); // ordinary memory
    await writer.close();
    await fh.close();
    expect(writer.directBytes).toBe(0);
    const data = fs.readFileSync(file);
    expect(data.length).toBe(100 + 65536 + 4096);
    expect(data.subarray(100, 100 + 65536).every((b) => b === 1)).toBe(true);
    expect(data.subarray(100 + 65536).every((b) => b === 2)).toBe(true);
  });
});

describe('readAhead', () => {
  it('gives a file in ring-sized chunks, cycling the ring, and nothing for an empty file', async () => {
    const bytes = randomBytes(5 * 65536 + 123);
    const file = path.join(dir, 'in');
    fs.writeFileSync(file, bytes);
    const ring = alignedRing(3, 65536);
    const fh = await fsp.open(file, 'r');
    const seen: Buffer[] = [];
    const slots: number[] = [];
    for await (const chunk of readAhead(fh, { ring })) {
      seen.push(Buffer.from(chunk)); // copied: the ring buffer is read into again later
      slots.push(ring.findIndex((b) => b.byteOffset === chunk.byteOffset));
    }
    await fh.close();
    expect(Buffer.concat(seen).equals(bytes)).toBe(true);
    expect(seen.map((c) => c.length)).toEqual([65536, 65536, 65536, 65536, 65536, 123]);
    expect(slots).toEqual([0, 1, 2, 0, 1, 2]);

    fs.writeFileSync(file, '');
    const empty = await fsp.open(file, 'r');
    const none: Buffer[] = [];
    for await (const chunk of readAhead(empty, { size: 4096 })) none.push(chunk);
    await empty.close();
    expect(none).toEqual([]);
  });

  it('has no read left in flight once a caller stops early', async () => {
    const file = path.join(dir, 'in');
    fs.writeFileSync(file, randomBytes(4 * 65536));
    const fh = await fsp.open(file, 'r');
    let pending = 0;
    const counting = {
      read: async (...args: Parameters<FileHandle['read']>) => {
        pending++;
        try {
          return await fh.read(...args);
        } finally {
          pending--;
        }
      },
    } as unknown as FileHandle;
    for await (const chunk of readAhead(counting, { size: 65536 })) {
      expect(chunk.length).toBe(65536);
      expect(pending).toBe(1); // the next chunk is already being read
      break;
    }
    expect(pending).toBe(0); // return() waited for it: the caller may close the file now
    await fh.close();
  });
});
