/**
 * Path safety for unpack: tar entry names reduced to safe relative paths, and every folder on
 * the way to a file checked to be a real directory inside the target (never a symlink), so an
 * archive cannot write outside it.
 */
import type { Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../core/errors.js';
import { UnsafeArchiveError } from './tar-reader.js';

/** A safe, context-relative name from a tar entry, or an error. */
export function sanitise(name: string, where: string): string {
  const bad = (why: string): never => {
    throw new UnsafeArchiveError(
      'tar-unsafe-path',
      `${where}: entry ${JSON.stringify(name)} ${why}`,
      {
        hint: 'This ModelKit tries to write outside the target directory; do not trust it.',
      },
    );
  };
  if (name.includes('\0')) bad('contains a NUL byte');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.startsWith('\\'))
    bad('is an absolute path');
  const parts = name.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) bad('contains ..');
  if (parts.length === 0) bad('is empty');
  return parts.join('/');
}

/** Refuses a symlink (or non-directory) anywhere between `dir` and `target`. */
export async function assertNoSymlinkBetween(
  dir: string,
  target: string,
  where: string,
): Promise<void> {
  const rel = path.relative(dir, target);
  if (rel === '') return;
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new UnsafeArchiveError('tar-unsafe-path', `${where}: ${target} is outside ${dir}`);
  }
  let cur = dir;
  for (const part of rel.split(path.sep)) {
    cur = path.join(cur, part);
    const st = await fsp.lstat(cur);
    if (!st.isDirectory()) {
      throw new UnsafeArchiveError(
        'tar-unsafe-path',
        `${where}: ${cur} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; refusing to write through it`,
        {
          hint: 'Unpack into an empty directory, or remove the link.',
        },
      );
    }
  }
}

/** mkdir -p for `target` inside `dir`, checking each component is a real directory. */
export async function ensureParents(
  dir: string,
  target: string,
  verified: Set<string>,
  where: string,
): Promise<void> {
  if (verified.has(target)) return;
  const rel = path.relative(dir, target);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new UnsafeArchiveError('tar-unsafe-path', `${where}: ${target} is outside ${dir}`);
  }
  let cur = dir;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    cur = path.join(cur, part);
    if (verified.has(cur)) continue;
    let st: Stats | undefined;
    try {
      st = await fsp.lstat(cur);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    if (st === undefined) {
      await fsp.mkdir(cur);
    } else if (!st.isDirectory()) {
      throw new UnsafeArchiveError(
        'tar-unsafe-path',
        `${where}: ${cur} is ${st.isSymbolicLink() ? 'a symbolic link' : 'a file'}; refusing to write through it`,
        {
          hint: 'Unpack into an empty directory, or use a different --dir.',
        },
      );
    }
    verified.add(cur);
  }
}
