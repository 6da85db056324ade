/**
 * The stat index: for each path Cairn hashed, the (inode, mtime, size, mode) it had and the
 * md5 it hashed to, plus for directories a fingerprint over all of their files' stats and the
 * resulting `.dir` hash. An unchanged file is never hashed twice, and an unchanged directory
 * needs one stat per file and no manifest rebuild. Files are written whole and renamed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../core/errors.js';
import { tempSibling } from '../core/fs.js';

/**
 * A file whose mtime is this close to the moment we read it may be rewritten within the same
 * filesystem clock tick without its mtime changing; such entries are not trusted later.
 */
export const RACY_MS = 100;

/** bytes: headers are one short JSON line (paths and digests) */
const HEADER_MAX = 16 * 1024;

export interface SnapshotHeader {
  v: 1;
  kind: 'file' | 'dir';
  /** md5 (with `.dir` for directories) */
  md5: string;
  /** bytes */
  size: number;
  nfiles: number;
  /** stat fingerprint of the whole tree; '' when some entry was racy */
  fingerprint: string;
  /** cache epoch at which every object was known present, or '' */
  epoch: string;
  cacheDir: string;
}

/** One indexed file; md5 '' means not trusted (racy). */
export interface IndexedFile {
  ino: number;
  mtimeMs: number;
  size: number;
  mode: number;
  md5: string;
}

export interface Snapshot {
  header: SnapshotHeader;
  /** keyed by POSIX path relative to the snapshot's root ('' for a single file) */
  files: Map<string, IndexedFile>;
}

export class StatIndex {
  readonly #dir: string;

  constructor(tmpDir: string) {
    this.#dir = path.join(tmpDir, 'index');
  }

  #file(repoRel: string): string {
    return path.join(this.#dir, createHash('md5').update(repoRel).digest('hex'));
  }

  /** Reads only the header line: enough for the no-op path. */
  header(repoRel: string): SnapshotHeader | undefined {
    let fd: number;
    try {
      fd = fs.openSync(this.#file(repoRel), 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const buffer = Buffer.allocUnsafe(HEADER_MAX);
      const n = fs.readSync(fd, buffer, 0, HEADER_MAX, 0);
      const nl = buffer.subarray(0, n).indexOf(0x0a);
      return parseHeader(buffer.subarray(0, nl < 0 ? n : nl).toString('utf8'));
    } finally {
      fs.closeSync(fd);
    }
  }

  load(repoRel: string): Snapshot | undefined {
    const text = this.#read(repoRel);
    if (text === undefined) return undefined;
    const lines = text.split('\n');
    const header = parseHeader(lines[0] ?? '');
    if (header === undefined) return undefined;
    const files = new Map<string, IndexedFile>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (line === '') continue;
      const f = line.split('\t');
      if (f.length < 6) return undefined;
      const relField = f.slice(5).join('\t');
      const rel = relField.startsWith('"') ? (JSON.parse(relField) as string) : relField;
      files.set(rel, {
        md5: f[0] ?? '',
        ino: Number(f[1]),
        mtimeMs: Number(f[2]),
        size: Number(f[3]),
        mode: Number(f[4]),
      });
    }
    return { header, files };
  }

  #read(repoRel: string): string | undefined {
    try {
      return fs.readFileSync(this.#file(repoRel), 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Streams the snapshot to a temp file in 64 KiB pieces, then renames it into place. */
  save(repoRel: string, header: SnapshotHeader, files: Iterable<[string, IndexedFile]>): void {
    fs.mkdirSync(this.#dir, { recursive: true });
    const target = this.#file(repoRel);
    const tmp = tempSibling(target);
    const fd = fs.openSync(tmp, 'wx');
    let open = true;
    try {
      let text = `${JSON.stringify(header)}\n`;
      for (const [rel, f] of files) {
        const relField = /[\t\n\r]/.test(rel) || rel.startsWith('"') ? JSON.stringify(rel) : rel;
        text += `${f.md5}\t${f.ino}\t${f.mtimeMs}\t${f.size}\t${f.mode}\t${relField}\n`;
        if (text.length >= 65536) {
          fs.writeSync(fd, text);
          text = '';
        }
      }
      fs.writeSync(fd, text);
      fs.closeSync(fd);
      open = false;
      fs.renameSync(tmp, target);
    } catch (error) {
      if (open) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw error;
    }
  }

  drop(repoRel: string): void {
    fs.rmSync(this.#file(repoRel), { force: true });
  }
}

function parseHeader(line: string): SnapshotHeader | undefined {
  try {
    const h = JSON.parse(line) as Partial<SnapshotHeader>;
    return h.v === 1 ? (h as SnapshotHeader) : undefined;
  } catch {
    return undefined;
  }
}

/** The index key of a path; legacy (md5-dos2unix) hashes of it are kept apart. */
export function indexKey(repoRel: string, legacy: boolean): string {
  return legacy ? `${repoRel}\0md5-dos2unix` : repoRel;
}

/** True when the indexed md5 may be reused for a file with this stat. */
export function trusted(
  entry: IndexedFile | undefined,
  ino: number,
  mtimeMs: number,
  size: number,
): boolean {
  return (
    entry !== undefined &&
    entry.md5 !== '' &&
    entry.ino === ino &&
    entry.mtimeMs === mtimeMs &&
    entry.size === size
  );
}
