/**
 * MD5 of file bytes, read in large chunks, optionally written into a cache temp file in the
 * same pass so the digest is of exactly the bytes stored. Small files take the synchronous
 * path (worker threads call it in batches); large files overlap reading, hashing and writing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { constants } from 'node:fs';
import fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
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
 * Large files: while chunk n is hashed on this thread, chunk n+1 is read and chunk n-1
 * written by libuv's pool, so the pass costs about one MD5 of the file.
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
  try {
    const before = statOf(await src.stat());
    let md5: string;
    let position: number;
    if (cache === undefined) {
      ({ md5, position } = await hashStream(src, () => true, onBytes));
    } else {
      // The kernel copies the file into the cache (copy_file_range: far cheaper than
      // write() from our buffers), and we hash the copy as it grows: the digest is of the
      // bytes stored, and the pass costs about one MD5 of the file.
      ensureDirSync(tempDir(cache));
      tmp = tempObjectPath(cache);
      let copied = false;
      const copying = fsp.copyFile(file, tmp, constants.COPYFILE_EXCL).finally(() => {
        copied = true;
      });
      const copy = await openWhenCreated(tmp, copying);
      try {
        ({ md5, position } = await hashStream(copy, () => copied, onBytes));
      } finally {
        await copy.close();
      }
      await copying;
      await fsp.chmod(tmp, cache.fileMode);
    }
    const after = statOf(await src.stat());
    if (position !== before.size || !sameStat(before, after)) return undefined;
    let stored = false;
    if (cache !== undefined && tmp !== undefined) {
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
    if (tmp !== undefined) await fsp.rm(tmp, { force: true });
  }
}

/** Opens the copy's temp file once copyFile has created it (or fails as the copy did). */
async function openWhenCreated(tmp: string, copying: Promise<void>): Promise<fsp.FileHandle> {
  for (;;) {
    try {
      return await fsp.open(tmp, 'r');
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    const done = await Promise.race([copying.then(() => true), sleep(1).then(() => false)]);
    if (done) return fsp.open(tmp, 'r');
  }
}

/**
 * MD5 of a file read in large chunks, the next read in flight while this one is hashed. When
 * the file is still being written (`complete()` false), reaching its current end waits for
 * more instead of finishing.
 */
async function hashStream(
  handle: fsp.FileHandle,
  complete: () => boolean,
  onBytes: ((bytes: number) => void) | undefined,
): Promise<{ md5: string; position: number }> {
  const hash = createHash('md5');
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)] as const;
  let position = 0;
  let turn = 0;
  // Whether the writer had finished when a read was issued: only then is an empty read the end.
  const issue = (): { finished: boolean; read: Promise<fsp.FileReadResult<Buffer>> } => {
    const finished = complete();
    const buffer = turn % 2 === 0 ? buffers[0] : buffers[1];
    return { finished, read: handle.read(buffer, 0, CHUNK, position) };
  };
  let pending = issue();
  for (;;) {
    const { bytesRead, buffer } = await pending.read;
    if (bytesRead === 0) {
      if (pending.finished) break;
      await sleep(1);
      pending = issue();
      continue;
    }
    const current = buffer.subarray(0, bytesRead);
    position += bytesRead;
    turn += 1;
    pending = issue();
    hash.update(current);
    onBytes?.(position);
  }
  return { md5: hash.digest('hex'), position };
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
