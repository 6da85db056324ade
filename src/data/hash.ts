/**
 * MD5 of file bytes, read in large chunks, optionally written into a cache temp file in the
 * same pass so the digest is of exactly the bytes stored. Small files take the synchronous
 * path (worker threads call it in batches); large files overlap reading, hashing and writing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { alignedRing, PositionalWriter, readAhead } from '../core/direct-io.js';
import { CairnError, errnoCode } from '../core/errors.js';
import {
  commitTempSync,
  ensureDirSync,
  hasObjectSync,
  tempDir,
  tempObjectPath,
  type CacheLayout,
} from './cache.js';

/** bytes per read for large files */
export const CHUNK = 4 * 1024 * 1024;
/** files up to this size are read whole */
export const SMALL_FILE = 4 * 1024 * 1024;

export interface FileStat {
  ino: number;
  /** ms since the epoch, fractional (sub-µs precision) */
  mtimeMs: number;
  size: number;
  mode: number;
}

export interface HashedFile {
  md5: string;
  /** the file's stat taken on the open descriptor before reading */
  stat: FileStat;
  /** true when this call wrote the object into the cache */
  stored: boolean;
}

function statOf(s: fs.Stats): FileStat {
  return { ino: s.ino, mtimeMs: s.mtimeMs, size: s.size, mode: s.mode };
}

function sameStat(a: FileStat, b: FileStat): boolean {
  return a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;
}

function changedWhileReading(file: string): CairnError {
  return new CairnError('file-changing', `${file} kept changing while it was being read`, {
    hint: 'Stop whatever is writing to it, then run the command again.',
  });
}

export function fileAccessError(file: string, error: unknown): CairnError {
  const code = errnoCode(error);
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'ELOOP'
        ? 'symbolic link loop'
        : code === 'ENOENT'
          ? 'no such file (a broken symbolic link?)'
          : code === 'EISDIR'
            ? 'is a directory'
            : (code ?? String(error));
  return new CairnError('file-unreadable', `Cannot read ${file}: ${why}`, {
    hint:
      code === 'EACCES' || code === 'EPERM'
        ? 'Fix its permissions (chmod u+r) or add it to .dvcignore.'
        : code === 'ELOOP' || code === 'ENOENT'
          ? 'Remove or fix the link, or add it to .dvcignore.'
          : 'Check the path and try again.',
    cause: error,
  });
}

/**
 * Hashes a small file and, when `cache` is given and the object is new, stores it. `known` is
 * the stat the caller already took (a directory walk), which saves a syscall per file; the
 * read asks for one byte more than that size, so a file that grew is noticed.
 */
export function hashSmallFileSync(
  file: string,
  cache: CacheLayout | undefined,
  known?: FileStat,
): HashedFile {
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (error) {
      throw fileAccessError(file, error);
    }
    let before: FileStat;
    let bytes: Buffer;
    try {
      before = attempt === 0 && known !== undefined ? known : statOf(fs.fstatSync(fd));
      if (before.size > SMALL_FILE) {
        throw new Error(`Internal error: ${file} is too large for the small-file path`);
      }
      const buffer = Buffer.allocUnsafe(before.size + 1);
      let off = 0;
      for (;;) {
        const n = fs.readSync(fd, buffer, off, buffer.length - off, off);
        off += n;
        // A regular file returns less than asked only at its end: no second read needed.
        if (n === 0 || off === buffer.length || off === before.size) break;
      }
      if (off !== before.size) continue; // grew or shrank since it was stat'ed
      bytes = buffer.subarray(0, off);
    } catch (error) {
      if (
        error instanceof CairnError ||
        (error instanceof Error && error.message.startsWith('Internal'))
      )
        throw error;
      throw fileAccessError(file, error);
    } finally {
      fs.closeSync(fd);
    }
    const md5 = createHash('md5').update(bytes).digest('hex');
    let stored = false;
    if (cache !== undefined && !hasObjectSync(cache, md5)) {
      ensureDirSync(tempDir(cache));
      const tmp = tempObjectPath(cache);
      fs.writeFileSync(tmp, bytes, { mode: cache.fileMode, flag: 'wx' });
      commitTempSync(cache, tmp, md5);
      stored = true;
    }
    return { md5, stat: before, stored };
  }
  throw changedWhileReading(file);
}

/**
 * Large files: while chunk n is hashed on this thread, chunk n+1 is read and chunks n-1…n-4
 * are written by libuv's pool, so the pass costs about one MD5 of the file. The digest is of
 * the very buffers written into the cache (directly, past the page cache: see direct-io.ts).
 */
export async function hashLargeFile(
  file: string,
  cache: CacheLayout | undefined,
  onBytes?: (bytes: number) => void,
): Promise<HashedFile> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await hashLargeOnce(file, cache, onBytes);
    if (result !== undefined) return result;
  }
  throw changedWhileReading(file);
}

/** chunks in flight: one being read, one hashed, up to four being written, one spare */
const RING = 7;

async function hashLargeOnce(
  file: string,
  cache: CacheLayout | undefined,
  onBytes: ((bytes: number) => void) | undefined,
): Promise<HashedFile | undefined> {
  let src: fsp.FileHandle;
  try {
    src = await fsp.open(file, 'r');
  } catch (error) {
    throw fileAccessError(file, error);
  }
  let tmp: string | undefined;
  let out: fsp.FileHandle | undefined;
  try {
    const before = statOf(await src.stat());
    let writer: PositionalWriter | undefined;
    if (cache !== undefined) {
      ensureDirSync(tempDir(cache));
      tmp = tempObjectPath(cache);
      // Writable for now (a second, direct descriptor opens it), read-only once complete.
      out = await fsp.open(tmp, 'wx', 0o600);
      writer = new PositionalWriter(out, tmp, { direct: cache.direct });
    }
    const hash = createHash('md5');
    let position = 0;
    try {
      for await (const chunk of readAhead(src, { ring: alignedRing(RING, CHUNK) })) {
        position += chunk.length;
        hash.update(chunk);
        await writer?.write(chunk);
        onBytes?.(position);
      }
    } finally {
      await writer?.close();
    }
    const md5 = hash.digest('hex');
    const after = statOf(await src.stat());
    if (position !== before.size || !sameStat(before, after)) return undefined;
    let stored = false;
    if (cache !== undefined && tmp !== undefined && out !== undefined) {
      await out.chmod(cache.fileMode);
      await out.close();
      out = undefined;
      if (hasObjectSync(cache, md5)) {
        await fsp.rm(tmp, { force: true });
      } else {
        commitTempSync(cache, tmp, md5);
        stored = true;
      }
      tmp = undefined;
    }
    return { md5, stat: before, stored };
  } catch (error) {
    if (error instanceof CairnError) throw error;
    throw fileAccessError(file, error);
  } finally {
    await src.close();
    await out?.close();
    if (tmp !== undefined) await fsp.rm(tmp, { force: true });
  }
}

/** Hashes a file of any size, storing it into `cache` when given. */
export async function hashFile(
  file: string,
  size: number,
  cache: CacheLayout | undefined,
  onBytes?: (bytes: number) => void,
  legacy = false,
): Promise<HashedFile> {
  if (legacy) return hashLegacySync(file);
  return size > SMALL_FILE ? hashLargeFile(file, cache, onBytes) : hashSmallFileSync(file, cache);
}

/** DVC 2.x hashed in 1 MiB chunks, turning CRLF into LF inside each chunk that looks like text. */
const LEGACY_CHUNK = 1024 * 1024;
const TEXT_SAMPLE = 512;

/** dvc-data's istextblock: no NUL, and at most 30% of bytes outside printable ASCII and \n\r\t\f\b. */
export function looksLikeText(block: Uint8Array): boolean {
  if (block.length === 0) return true;
  let nontext = 0;
  for (const b of block) {
    if (b === 0) return false;
    const text = (b >= 32 && b < 127) || b === 10 || b === 13 || b === 9 || b === 12 || b === 8;
    if (!text) nontext += 1;
  }
  return nontext / block.length <= 0.3;
}

function dos2unix(chunk: Buffer): Buffer {
  if (!looksLikeText(chunk.subarray(0, TEXT_SAMPLE)) || !chunk.includes('\r\n')) return chunk;
  const out = Buffer.allocUnsafe(chunk.length);
  let n = 0;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i] ?? 0;
    if (b === 13 && chunk[i + 1] === 10) continue;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/**
 * md5-dos2unix, the hash of DVC 2.x outputs (recorded without `hash: md5`). Only ever used to
 * compare with old records, so it is synchronous and never stores.
 */
export function hashLegacySync(file: string, known?: FileStat): HashedFile {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw fileAccessError(file, error);
  }
  try {
    const stat = known ?? statOf(fs.fstatSync(fd));
    const hash = createHash('md5');
    const buffer = Buffer.allocUnsafe(LEGACY_CHUNK);
    let position = 0;
    for (;;) {
      let filled = 0;
      while (filled < LEGACY_CHUNK) {
        const n = fs.readSync(fd, buffer, filled, LEGACY_CHUNK - filled, position + filled);
        if (n === 0) break;
        filled += n;
      }
      if (filled === 0) break;
      hash.update(dos2unix(buffer.subarray(0, filled)));
      position += filled;
      if (filled < LEGACY_CHUNK) break;
    }
    return { md5: hash.digest('hex'), stat, stored: false };
  } catch (error) {
    throw fileAccessError(file, error);
  } finally {
    fs.closeSync(fd);
  }
}
