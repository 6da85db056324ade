/** Small filesystem helpers shared by every store: atomic writes, temp names, existence checks. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from './errors.js';

/** A unique sibling name for a temp file that is renamed into place once complete. */
export function tempSibling(target: string): string {
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
}

/**
 * Writes a whole file so readers see the old content or the new, never a torn one:
 * write a temp sibling, then rename over the target.
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const tmp = tempSibling(target);
  try {
    await fsp.writeFile(tmp, data, { mode: options.mode ?? 0o666, flag: 'wx' });
    await fsp.rename(tmp, target);
  } catch (error) {
    await fsp.rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Creates `target` with `data` unless it exists, so no reader ever sees it empty or torn, even
 * if the process dies mid-write: write a temp sibling, then hard-link it to the target (which
 * fails if the target exists). Answers whether this call created it.
 */
export async function createFileAtomic(
  target: string,
  data: string | Uint8Array,
): Promise<boolean> {
  const tmp = tempSibling(target);
  try {
    await fsp.writeFile(tmp, data, { flag: 'wx' });
    await fsp.link(tmp, target);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  const tmp = tempSibling(target);
  try {
    fs.writeFileSync(tmp, data, { flag: 'wx' });
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

/** lstat that answers undefined for a missing path instead of throwing. */
export async function lstatOrUndefined(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fsp.lstat(p);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

export async function readFileOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(p, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Converts an OS path relative to some root into the POSIX form stored in DVC files. */
export function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}

/** True when `child` is `parent` or lies below it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** True while a process with this pid exists on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) !== 'ESRCH';
  }
}

/** The writer's pid in a name made by {@link tempSibling} (`.<name>.<pid>.<hex>.tmp`). */
export function tempSiblingPid(name: string): number | undefined {
  const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Removes temp files in `dir` whose writer process is gone; returns how many. */
export async function sweepDeadTemps(
  dir: string,
  pidOf: (name: string) => number | undefined,
): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = pidOf(name);
    if (pid !== undefined && pid > 0 && pid !== process.pid && !processAlive(pid)) {
      await fsp.rm(path.join(dir, name), { force: true, recursive: true });
      removed += 1;
    }
  }
  return removed;
}
