/**
 * Placing cache objects in the workspace with the first link type that works, from the
 * configured list (DVC's `cache.type`). Every placement builds the new file under
 * `.cairn/tmp` and renames it over the target, so a killed checkout never leaves a torn file.
 */
import { constants } from 'node:fs';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { LinkType } from '../core/config.js';
import { errnoCode } from '../core/errors.js';
import { tempSibling } from '../core/fs.js';
import { ensureDirSync, objectPath, tempObjectPath, tempDir, type CacheLayout } from './cache.js';

const probed = new Map<string, LinkType>();

/** The first link type in `types` that works between the cache and `stagingDir`. */
export function chooseLinkType(
  cache: CacheLayout,
  stagingDir: string,
  types: readonly LinkType[],
): LinkType {
  const key = `${cache.dir}\0${stagingDir}\0${types.join(',')}`;
  const known = probed.get(key);
  if (known !== undefined) return known;
  ensureDirSync(tempDir(cache));
  ensureDirSync(stagingDir);
  const probe = tempObjectPath(cache);
  fs.writeFileSync(probe, 'cairn link probe');
  let chosen: LinkType = 'copy';
  try {
    for (const type of types) {
      const target = path.join(stagingDir, `probe-${process.pid}-${type}`);
      try {
        makeLink(type, probe, target);
        chosen = type;
        break;
      } catch {
        // not supported here: try the next type
      } finally {
        fs.rmSync(target, { force: true });
      }
    }
  } finally {
    fs.rmSync(probe, { force: true });
  }
  probed.set(key, chosen);
  return chosen;
}

function makeLink(type: LinkType, from: string, to: string): void {
  switch (type) {
    case 'reflink':
      fs.copyFileSync(from, to, constants.COPYFILE_FICLONE_FORCE);
      return;
    case 'hardlink':
      fs.linkSync(from, to);
      return;
    case 'symlink':
      fs.symlinkSync(from, to);
      return;
    case 'copy':
      fs.copyFileSync(from, to);
      return;
  }
}

/** True when `dest` already is what placing `md5` with `type` would make (links only). */
export function alreadyLinked(
  cache: CacheLayout,
  md5: string,
  dest: string,
  type: LinkType,
  st: fs.Stats,
): boolean {
  if (type === 'hardlink') {
    try {
      return fs.statSync(objectPath(cache, md5)).ino === st.ino && st.isFile();
    } catch {
      return false;
    }
  }
  if (type === 'symlink') {
    return st.isSymbolicLink() && fs.readlinkSync(dest) === objectPath(cache, md5);
  }
  return false;
}

/** Puts object `md5` at `dest`, replacing whatever is there. */
export async function placeObject(
  cache: CacheLayout,
  md5: string,
  dest: string,
  type: LinkType,
  stagingDir: string,
  isexec: boolean,
): Promise<void> {
  const source = objectPath(cache, md5);
  let tmp = path.join(stagingDir, path.basename(tempSibling(dest)));
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  try {
    makeLink(type, source, tmp);
  } catch (error) {
    if (errnoCode(error) !== 'EXDEV') throw error;
    tmp = tempSibling(dest); // the workspace spans filesystems: stage beside the target instead
    makeLink(type, source, tmp);
  }
  try {
    if (type === 'copy' || type === 'reflink') await fsp.chmod(tmp, isexec ? 0o755 : 0o644);
    await fsp.rename(tmp, dest);
  } catch (error) {
    await fsp.rm(tmp, { force: true });
    throw error;
  }
}

/** Turns a linked or read-only workspace file into a private writable copy. */
export async function unprotectFile(file: string, stagingDir: string): Promise<boolean> {
  const st = await fsp.lstat(file);
  const isLink = st.isSymbolicLink();
  const shared = st.isFile() && st.nlink > 1;
  const readOnly = st.isFile() && (st.mode & 0o200) === 0;
  if (!isLink && !shared && !readOnly) return false;
  const tmp = path.join(stagingDir, path.basename(tempSibling(file)));
  await fsp.mkdir(stagingDir, { recursive: true });
  await fsp.copyFile(file, tmp);
  const mode = (isLink ? (await fsp.stat(file)).mode : st.mode) & 0o777;
  await fsp.chmod(tmp, mode | 0o200);
  await fsp.rename(tmp, file);
  return true;
}
