/**
 * Which files and directories go into one tar layer, in the order kit writes them: a sorted,
 * pre-order walk from the context root that keeps the layer path's ancestors, the path itself
 * and its subtree, minus other layers' paths, ignored names, OS junk and non-regular files.
 */
import fs, { type Dirent, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError, errnoCode } from '../core/errors.js';
import { byteOrder } from '../oci/gojson.js';
import { isJunk, type KitIgnore } from './kitignore.js';
import type { EntryType } from './tar-header.js';

export interface WalkEntry {
  /** context-relative POSIX name */
  name: string;
  type: EntryType;
  /** permission bits with setuid/setgid/sticky */
  mode: number;
  /** bytes (0 for directories) */
  size: number;
  /** absolute path on disk */
  abs: string;
}

export interface WalkOptions {
  contextDir: string;
  /** cleaned, context-relative; `.` is the whole context */
  layerPath: string;
  /** cleaned paths of the other layers that are not parents of this one (string-prefix test) */
  excluded: readonly string[];
  ignore: KitIgnore;
  warn: (message: string) => void;
}

const sortNames = (names: string[]): string[] =>
  names.every((n) => /^[\x20-\x7e]*$/.test(n)) ? names.sort() : names.sort(byteOrder);

function toEntry(name: string, abs: string, st: Stats): WalkEntry | undefined {
  if (st.isDirectory()) return { name, type: 'dir', mode: st.mode & 0o7777, size: 0, abs };
  if (st.isFile()) return { name, type: 'file', mode: st.mode & 0o7777, size: st.size, abs };
  return undefined;
}

/** Lists a layer's entries; throws when the layer path does not exist. */
export async function walkLayer(o: WalkOptions): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  const layer = o.layerPath;
  // Ancestors of the layer path, outermost first.
  if (layer !== '.') {
    const parts = layer.split('/');
    for (let i = 1; i < parts.length; i++) {
      const name = parts.slice(0, i).join('/');
      if (o.ignore.ignores(name)) continue;
      const abs = path.join(o.contextDir, name);
      const st = await fsp.lstat(abs);
      const e = toEntry(name, abs, st);
      if (e !== undefined) out.push(e);
    }
  }
  const rootAbs = path.join(o.contextDir, layer);
  let rootStat: Stats;
  try {
    rootStat = await fsp.lstat(rootAbs);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
      throw new CairnError(
        'layer-path-missing',
        `layer path ${layer} does not exist in ${o.contextDir}`,
        {
          hint: 'Fix the path in the Kitfile (paths are relative to the context directory).',
        },
      );
    }
    throw error;
  }
  const skip = (name: string): boolean =>
    o.ignore.ignores(name) || o.excluded.some((ex) => name.startsWith(ex));
  if (layer === '.') {
    await walkDir(o.contextDir, '', out, skip, o.warn);
    return out;
  }
  if (o.ignore.ignores(layer)) {
    o.warn(`layer path ${layer} is ignored by .kitignore; the layer is empty`);
    return out;
  }
  const root = toEntry(layer, rootAbs, rootStat);
  if (root === undefined) {
    o.warn(`skipping ${layer}: only regular files and directories are packed`);
    return out;
  }
  out.push(root);
  if (root.type === 'dir') await walkDir(rootAbs, layer, out, skip, o.warn);
  return out;
}

async function walkDir(
  abs: string,
  rel: string,
  out: WalkEntry[],
  skip: (name: string) => boolean,
  warn: (message: string) => void,
): Promise<void> {
  // Synchronous calls: on a warm cache a stat costs microseconds, far less than a promise round trip.
  const dirents = fs.readdirSync(abs, { withFileTypes: true });
  const byName = new Map<string, Dirent>(dirents.map((d) => [d.name, d]));
  const names = sortNames([...byName.keys()]);
  // stat the regular files of this directory concurrently, then emit in order
  const kept = names.filter((n) => {
    const name = rel === '' ? n : `${rel}/${n}`;
    return !isJunk(n) && !skip(name);
  });
  const stats = kept.map((n) => fs.lstatSync(`${abs}${path.sep}${n}`));
  for (let i = 0; i < kept.length; i++) {
    const n = kept[i] ?? '';
    const st = stats[i];
    if (st === undefined) continue;
    const name = rel === '' ? n : `${rel}/${n}`;
    const childAbs = `${abs}${path.sep}${n}`;
    const e = toEntry(name, childAbs, st);
    if (e === undefined) {
      warn(`skipping ${name}: only regular files and directories are packed`);
      continue;
    }
    out.push(e);
    if (e.type === 'dir') await walkDir(childAbs, name, out, skip, warn);
  }
}
